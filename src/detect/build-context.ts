import { realpath, stat } from "node:fs/promises";
import { posix } from "node:path";
import { userError } from "../core/errors.ts";
import { resolveBeneath } from "../source/resolve-beneath.ts";

const SAFE_CHARS = /^[A-Za-z0-9._@+\/-]+$/;
const MAX_LENGTH = 512;

/**
 * A build context named by the config or a compose file, as a directory from the repo root
 * ("." for the top). It is resolved one component at a time inside the real repository, so a
 * `..` past the top or a symlink that leads out is refused, never followed: the source archive
 * is made from this directory, and nothing outside the checkout may reach a build.
 */
export async function resolveBuildContext(repoDir: string, context: string, file: string, shownFrom = file): Promise<string> {
  const fail = (why: string) =>
    userError(`${shownFrom} names the build context \`${context.slice(0, 200)}\`, which ${why}.`, {
      title: "Bad build context",
      location: { file },
      hint: "Name a directory of the repository, relative to its top (`.` for the top), by letters, digits and . _ - + @ /.",
    });
  if (context.length > MAX_LENGTH || !SAFE_CHARS.test(context)) throw fail("microship can't use safely");
  if (posix.isAbsolute(context)) throw fail("is absolute");
  const normal = posix.normalize(context);
  if (normal === ".." || normal.startsWith("../")) throw fail("is outside the repository");
  const root = await realpath(repoDir);
  const r = await resolveBeneath(root, normal);
  if (r.kind === "leaves") throw fail("leads outside the repository through a symlink");
  if (r.kind === "loops") throw fail("is a symlink loop");
  if (r.kind === "missing") throw fail("does not exist in the repository");
  if (!(await stat(r.path)).isDirectory()) throw fail("is not a directory");
  return r.rel === "" ? "." : r.rel;
}

/** A path from the repo root as seen from the app root, for `dockerfile:` (which is relative to the app). */
export function fromAppRoot(appRoot: string, repoPath: string): string {
  return posix.relative(posix.normalize(appRoot), posix.normalize(repoPath)) || ".";
}

/** `context:` is for a Dockerfile of the repo's own; a generated one copies from the app root. */
export function checkContextUse(ctx: { config: { context?: string }; root: string }, plan: { runtime: string }): void {
  const context = ctx.config.context;
  if (!context || plan.runtime === "dockerfile" || posix.normalize(context) === posix.normalize(ctx.root)) return;
  throw userError(`\`context: ${context.slice(0, 200)}\` in .github/microship.yml applies to a Dockerfile of the app's own, but this app's Dockerfile is generated, and copies the app root.`, {
    title: "context without a Dockerfile",
    location: { file: ".github/microship.yml" },
    hint: "Remove `context`, or set `dockerfile:` to the Dockerfile that expects that context.",
  });
}
