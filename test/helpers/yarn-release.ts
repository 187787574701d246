import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

/**
 * A real Yarn release, as `yarn set version <v>` checks it in under .yarn/releases/: the bundle
 * that the npm package @yarnpkg/cli-dist ships as bin/yarn.js. It comes from the npm registry at
 * test time (2.7 MB is too big to commit for a test) and is cached under `cache`/yarn-releases.
 */
export function yarnRelease(cache: string, version: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`not an exact Yarn version: ${version}`);
  const dir = join(cache, "yarn-releases");
  const out = join(dir, `yarn-${version}.cjs`);
  if (!existsSync(out)) {
    const work = join(dir, `pack-${process.pid}`);
    mkdirSync(work, { recursive: true });
    try {
      const tgz = execFileSync("npm", ["pack", `@yarnpkg/cli-dist@${version}`, "--silent"], { cwd: work, encoding: "utf8" }).trim().split("\n").pop()!;
      execFileSync("tar", ["-xzf", tgz, "-C", work, "--no-same-owner", "package/bin/yarn.js"], { cwd: work });
      renameSync(join(work, "package/bin/yarn.js"), out);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return readFileSync(out, "utf8");
}
