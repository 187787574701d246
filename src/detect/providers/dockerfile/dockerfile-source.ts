import { posix } from "node:path";
import type { DetectContext } from "../../context.ts";
import { REPO_CONFIG_PATH } from "../../../core/repo-config.ts";
import { fromAppRoot, resolveBuildContext } from "../../build-context.ts";
import { composeBuild, type ComposeBuild } from "./compose-builds.ts";

export interface DockerfileSource {
  /** The Dockerfile, from the app root (as `dockerfile:` is). */
  path: string;
  /** The build context, from the repo root. */
  context: string;
  /** Where the choice came from, for the story. */
  source: string;
  /** What set the context, when it isn't the app root. */
  contextSource: string | null;
  /** The compose service it was read from, when it was. */
  fromCompose?: string;
}

const CONFIG_CONTEXT = `\`context\` in ${REPO_CONFIG_PATH}`;

/**
 * Which Dockerfile of the repo's own is built, and from which context: `dockerfile:` in the
 * config, else a Dockerfile at the app root, else the one build of the app's compose file
 * (`context: .` with `dockerfile: backend/Dockerfile`). The context is `context:` in the
 * config, else the compose file's when it builds that same Dockerfile, else the app root.
 * Null when the app has none of them.
 */
export async function dockerfileSource(ctx: DetectContext): Promise<DockerfileSource | null> {
  const compose = await composeBuild(ctx);
  let path: string;
  let source: string;
  if (ctx.config.dockerfile) [path, source] = [ctx.config.dockerfile, `\`dockerfile\` in ${REPO_CONFIG_PATH}`];
  else if (await ctx.exists("Dockerfile")) [path, source] = ["Dockerfile", "a Dockerfile at the app root"];
  else if (compose) {
    // Checked before any path is made relative to it: path.relative would resolve `..` past the top against the process's cwd.
    if (escapes(compose.context)) await resolveBuildContext(ctx.repoDir, compose.context, compose.file, composeShown(compose));
    [path, source] = [fromAppRoot(ctx.root, compose.dockerfile), composeShown(compose)];
  }
  else return null;
  if (ctx.config.context) return { path, source, context: await resolveBuildContext(ctx.repoDir, ctx.config.context, REPO_CONFIG_PATH, CONFIG_CONTEXT), contextSource: CONFIG_CONTEXT };
  if (compose && posix.join(ctx.root, path) === compose.dockerfile) {
    const shown = composeShown(compose);
    return { path, source, context: await resolveBuildContext(ctx.repoDir, compose.context, compose.file, shown), contextSource: shown, fromCompose: shown };
  }
  return { path, source, context: posix.normalize(ctx.root), contextSource: null };
}

/** Whether the app has a Dockerfile of its own to build; cheap enough for detect. */
export async function hasDockerfileSource(ctx: DetectContext): Promise<boolean> {
  if (ctx.config.dockerfile || (await ctx.exists("Dockerfile"))) return true;
  return (await composeBuild(ctx)) !== null;
}

const escapes = (p: string) => posix.normalize(p) === ".." || posix.normalize(p).startsWith("../");

function composeShown(b: ComposeBuild): string {
  return `service \`${b.service}\` of ${b.file}`;
}
