import type { DetectContext } from "./context.ts";
import { dockerignoreMatcher } from "../source/dockerignore.ts";
import { GENERATED_DOCKERIGNORE } from "./plan-defaults.ts";

/**
 * The paths the build context will hold. The source archive leaves out what the app's
 * .dockerignore (or the generated one) excludes, and a COPY that names an excluded file fails
 * the build: a team that keeps .npmrc out of its images must not get a broken dependency
 * layer for it. A path ending in `/` is a directory.
 */
export async function inBuildContext(ctx: DetectContext, paths: string[]): Promise<string[]> {
  const text = (await ctx.read(".dockerignore")) ?? GENERATED_DOCKERIGNORE;
  const ignored = dockerignoreMatcher(text, ctx.rel(".dockerignore"));
  return paths.filter((p) => !ignored(p.endsWith("/") ? p.slice(0, -1) : p, p.endsWith("/")));
}
