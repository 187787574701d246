import { posix } from "node:path";
import type { Provider } from "../../provider.ts";
import type { DetectContext } from "../../context.ts";
import type { BuildPlan } from "../../../core/types.ts";
import { userError } from "../../../core/errors.ts";
import { safeExists } from "../../../source/safe-read.ts";
import { GENERATED_DOCKERIGNORE, planBase } from "../../plan-defaults.ts";
import { dockerfileSource, hasDockerfileSource } from "./dockerfile-source.ts";

/**
 * The repo's own Dockerfile, used as it is: at the app root, the path `dockerfile:` names, or the
 * one the app's compose file builds; from the app root, or the context `context:` or compose names.
 */
export const dockerfileProvider: Provider = {
  name: "dockerfile",
  label: "Dockerfile",
  runtimeIds: /^$/,
  lookedFor: "a Dockerfile",
  startCommandHelp: "set CMD in your Dockerfile",

  detect: hasDockerfileSource,

  async startEvidence() {
    return null;
  },

  async plan(ctx: DetectContext): Promise<BuildPlan> {
    const chosen = await dockerfileSource(ctx);
    const path = chosen?.path ?? ctx.config.dockerfile ?? "Dockerfile";
    const text = await ctx.read(path);
    if (text === null || !chosen) {
      const named = ctx.config.dockerfile || !chosen ? ".github/microship.yml names it in `dockerfile`" : `${chosen.source} names it`;
      throw userError(`${ctx.rel(path)} does not exist, but ${named}.`, {
        title: "Dockerfile not found",
        location: { file: ctx.config.dockerfile || !chosen ? ".github/microship.yml" : ctx.rel(path) },
        hint: "Fix the `dockerfile` path (it is relative to the app root), or remove it to let microship detect the runtime.",
      });
    }
    // Told whenever the config or a compose file names it, even when it is the app root.
    const other = chosen.contextSource !== null || chosen.context !== posix.normalize(ctx.root);
    const where = other ? `, with ${chosen.context === "." ? "the repository's top" : `\`${chosen.context}\``} as build context (from ${chosen.contextSource})` : "";
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
      // The archive reads the context's own .dockerignore; without one, the generated one applies.
      dockerignore: (await safeExists(ctx.repoDir, posix.join(chosen.context, ".dockerignore"))) ? null : GENERATED_DOCKERIGNORE,
      messages: [
        { level: "info", text: `Using ${ctx.rel(path)} as it is (from ${chosen.source})${where}; runtime detection was skipped.` },
        ...(chosen.fromCompose ? [{ level: "info" as const, text: `Read from ${chosen.fromCompose}: the Dockerfile ${ctx.rel(path)}, built with \`${chosen.context}\` as context.` }] : []),
      ],
      ...(other ? { contextRoot: chosen.context } : {}),
    };
  },
};
