import type { Provider } from "../../provider.ts";
import type { DetectContext } from "../../context.ts";
import type { BuildPlan } from "../../../core/types.ts";
import { userError } from "../../../core/errors.ts";
import { dockerignoreFor, planBase } from "../../plan-defaults.ts";

/** The repo's own Dockerfile, used as it is: at the app root, or the path `dockerfile:` names. */
export const dockerfileProvider: Provider = {
  name: "dockerfile",
  label: "Dockerfile",
  runtimeIds: /^$/,
  lookedFor: "a Dockerfile",
  startCommandHelp: "set CMD in your Dockerfile",

  async detect(ctx) {
    return Boolean(ctx.config.dockerfile) || (await ctx.exists("Dockerfile"));
  },

  async startEvidence() {
    return null;
  },

  async plan(ctx: DetectContext): Promise<BuildPlan> {
    const path = ctx.config.dockerfile ?? "Dockerfile";
    const text = await ctx.read(path);
    if (text === null) {
      throw userError(`${ctx.rel(path)} does not exist, but .github/microship.yml names it in \`dockerfile\`.`, {
        title: "Dockerfile not found",
        location: { file: ".github/microship.yml" },
        hint: "Fix the `dockerfile` path (it is relative to the app root), or remove it to let microship detect the runtime.",
      });
    }
    const source = ctx.config.dockerfile ? "`dockerfile` in .github/microship.yml" : "a Dockerfile at the app root";
    return {
      ...planBase(ctx),
      runtime: "dockerfile",
      provider: "dockerfile",
      version: null,
      packageManager: null,
      installCommand: null,
      buildCommand: null,
      startCommand: null,
      cacheFiles: [],
      dockerfile: text,
      dockerfilePath: ctx.rel(path),
      dockerignore: await dockerignoreFor(ctx),
      messages: [{ level: "info", text: `Using ${ctx.rel(path)} as it is (from ${source}); runtime detection was skipped.` }],
    };
  },
};
