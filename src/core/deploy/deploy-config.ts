import { z } from "zod";

/** The `deploy:` block of `.github/microship.yml`; part of the repo config's schema. */

// Names become instance environment variables: the same rule as `env` elsewhere in the file.
const varName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);
const variables = () =>
  z.record(varName, z.string().max(4096), {
    error: (issue) => (issue.code === "invalid_key" ? "names must be letters, digits and '_', not starting with a digit" : undefined),
  });

// An environment name goes into instance names and GitHub environments: keep it plain.
const envName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,29}$/, "lowercase letters, digits and '-', at most 30 characters");

const environment = z
  .object({
    branch: z.string().min(1).max(255).describe("The branch whose pushes deploy to this environment."),
  })
  .strict();

export const previewSchema = z
  .object({
    enabled: z.boolean().describe("Give each pull request a live preview. Default: true.").optional(),
    forks: z.boolean().describe("Previews for pull requests from forks too (they run the fork's code). Default: false.").optional(),
    idle_minutes: z.number().int().min(1).max(10_080).describe("Put an idle preview to sleep after this many minutes. Default: 60.").optional(),
    ttl_days: z.number().int().min(1).max(365).describe("Delete a preview this many days after its last deploy. Default: 7.").optional(),
    env: variables().describe("Environment for previews, on top of `deploy.env`.").optional(),
  })
  .strict();

export const deploySchema = z
  .object({
    port: z.number().int().min(1).max(65535).describe("The port the app listens on ($PORT is set to it). Default: 3000.").optional(),
    health: z
      .string()
      .max(512)
      .regex(/^\/[^\s\x00-\x1f\x7f]*$/, "an HTTP path starting with '/', without spaces or control characters")
      .describe("HTTP path that must answer 2xx before traffic moves to a new version. Default: \"/\".")
      .optional(),
    env: variables().describe("Non-secret environment for the running app.").optional(),
    secrets: z.array(varName).max(100).describe("Names of secrets the running app gets (values are set on the server, never here).").optional(),
    environments: z
      .record(envName, environment)
      .describe("Environments by name, each deployed from one branch. Default: production from the default branch.")
      .optional(),
    preview: previewSchema.describe("Pull request previews.").optional(),
    release: z.string().min(1).max(1000).describe("A command run once per deploy before traffic moves, e.g. migrations.").optional(),
  })
  .strict();

export type DeployConfig = z.infer<typeof deploySchema>;

export const DEPLOY_DEFAULTS = { port: 3000, health: "/", idleMinutes: 60, ttlDays: 7 } as const;
