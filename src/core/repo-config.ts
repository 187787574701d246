import { z } from "zod";
import { LineCounter, parseDocument, isNode, type Document } from "yaml";
import { userError, type MicroshipError } from "./errors.ts";
import { deploySchema } from "./deploy/deploy-config.ts";

/** The single source of truth for `.github/microship.yml`; schema/microship.schema.json is generated from it. */

export const REPO_CONFIG_PATH = ".github/microship.yml";

const glob = z.string().min(1);
// Names go into generated `ENV` and `ARG` lines, so they must be names a Dockerfile accepts.
const varName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);
const variables = () =>
  z.record(varName, z.string(), {
    error: (issue) => (issue.code === "invalid_key" ? "names must be letters, digits and '_', not starting with a digit" : undefined),
  });

const appFields = {
  root: z.string().min(1).describe("App directory relative to the repo root (monorepos). Default: the repo root.").optional(),
  runtime: z
    .string()
    .regex(/^(node|python|static|nodejs\d+|python\d+)$/, "expected node, python, static, or a runtime id such as nodejs22 or python312")
    .describe("Force a runtime: node, python, static (files served by Caddy, built first when package.json has a build script), or a versioned id such as nodejs22 or python311.")
    .optional(),
  version: z.string().min(1).describe("Runtime version, e.g. \"22\" or \"3.12\". Overrides every version file.").optional(),
  dockerfile: z.string().min(1).describe("Path to a Dockerfile, relative to the app root. Skips detection.").optional(),
  context: z
    .string()
    .min(1)
    .max(512)
    .describe("Build context of the app's own Dockerfile, relative to the repo root (e.g. \".\" for a Dockerfile in a subfolder that copies from the top). Default: the app root. It must be a directory inside the repository.")
    .optional(),
  base_image: z
    .string()
    .min(1)
    .max(512)
    // It becomes a FROM line: a newline would add instructions of the config's choosing.
    .regex(/^[^\s\x00-\x1f\x7f]+$/, "must be one image reference: no spaces, newlines or other control characters")
    .describe("Base image for the generated Dockerfile, e.g. node:22-slim or an image pinned by digest. One reference: no spaces, newlines or control characters.")
    .optional(),
  build_args: variables().describe("Build arguments passed to the image build.").optional(),
  start: z.string().min(1).describe("Start command for the image, overriding detection.").optional(),
  branches: z.array(glob).describe("Build pushes only to branches matching one of these globs.").optional(),
  paths: z.array(glob).describe("Build only when a change touches a path matching one of these globs.").optional(),
  image: z
    .string()
    .min(1)
    .max(200)
    .describe("Image path below {owner}/{repo} in the registry, e.g. \"api\" gives {owner}/{repo}/api; {app} is the app's name. It can't leave the repository's namespace: a leading {owner}/{repo} is implied and dropped, and '..' or a host are just path components.")
    .optional(),
  timeout: z.number().int().min(30).max(7200).describe("Build timeout in seconds.").optional(),
  env: variables().describe("Non-secret environment for the build and the image.").optional(),
};

export const appConfigSchema = z.object(appFields).strict();

export const repoConfigSchema = z
  .object({
    ...appFields,
    builds: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[a-z0-9][a-z0-9._-]{0,38}$/, "lowercase letters, digits, '.', '_' and '-', at most 39 characters")
              .describe("App name; its check run is microship/<name>."),
            ...appFields,
          })
          .strict(),
      )
      .min(1)
      .describe("Several apps in one repo, each built and reported on its own.")
      .optional(),
    deploy: deploySchema.describe("Run the built image: a preview per pull request, an environment per branch.").optional(),
  })
  .strict()
  .meta({
    title: "microship repository config",
    description: "The .github/microship.yml of a repository built by microship. Top-level fields are defaults for every entry of `builds`.",
  });

export type AppConfig = z.infer<typeof appConfigSchema>;
export type RepoConfig = z.infer<typeof repoConfigSchema>;

/** One app of a repo config, with top-level fields as defaults under each `builds` entry. */
export interface ResolvedAppConfig extends AppConfig {
  name: string | null;
}

export function resolveApps(config: RepoConfig): ResolvedAppConfig[] {
  const { builds, deploy: _deploy, ...top } = config;
  if (!builds) return [{ ...top, name: null }];
  return builds.map(({ name, ...own }) => ({ ...top, ...own, name }));
}

export type RepoConfigResult = { ok: true; config: RepoConfig } | { ok: false; error: MicroshipError };

/**
 * Parses the YAML text of a repo config. Every failure is a user error that names the file,
 * the line and the column, so the check run can point at it.
 */
export function parseRepoConfig(text: string, file: string = REPO_CONFIG_PATH): RepoConfigResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = lineCounter.linePos(yamlError.pos[0]);
    return fail(file, pos.line, pos.col, `invalid YAML: ${yamlError.message.split("\n")[0]}`);
  }
  const data: unknown = doc.toJS() ?? {};
  const parsed = repoConfigSchema.safeParse(data);
  if (parsed.success) return { ok: true, config: parsed.data };
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String);
  const unknownKey = issue.code === "unrecognized_keys";
  const { line, col } = locate(doc, lineCounter, unknownKey ? [...path, ...issue.keys.slice(0, 1)] : path, unknownKey);
  const where = path.length > 0 ? `\`${path.join(".")}\`: ` : "";
  return fail(file, line, col, `${where}${issue.message}`);
}

function fail(file: string, line: number, column: number, detail: string): RepoConfigResult {
  return {
    ok: false,
    error: userError(`${file}:${line}:${column}: ${detail}`, {
      title: "Config schema error",
      location: { file, line, column },
      hint: `Fix ${file} at line ${line}. The fields are described in schema/microship.schema.json of microship; add '# yaml-language-server: $schema=...' to get them in your editor.`,
    }),
  };
}

/** Finds the deepest node along `path` that exists: the value, or for an unknown key the key itself. */
function locate(doc: Document, lc: LineCounter, path: string[], preferKey: boolean): { line: number; col: number } {
  let offset = 0;
  for (let depth = path.length; depth >= 0; depth--) {
    const keys = path.slice(0, depth).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const value = depth > 0 ? doc.getIn(keys, true) : doc.contents;
    const key = depth > 0 ? findKeyNode(doc, keys) : undefined;
    const node = preferKey ? key ?? value : isNode(value) && value.range ? value : key;
    if (isNode(node) && node.range) {
      offset = node.range[0];
      break;
    }
  }
  const pos = lc.linePos(offset);
  return { line: pos.line, col: pos.col };
}

function findKeyNode(doc: Document, keys: (string | number)[]): unknown {
  const parentKeys = keys.slice(0, -1);
  const last = keys[keys.length - 1];
  const parent = parentKeys.length > 0 ? doc.getIn(parentKeys, true) : doc.contents;
  if (parent && typeof parent === "object" && "items" in parent && Array.isArray(parent.items)) {
    for (const item of parent.items as unknown[]) {
      if (item && typeof item === "object" && "key" in item) {
        const key = (item as { key: unknown }).key;
        if (isNode(key) && "value" in key && (key as { value: unknown }).value === last) return key;
      }
    }
  }
  return undefined;
}
