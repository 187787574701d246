import picomatch from "picomatch";
import type { BuildRequest } from "./types.ts";
import type { RepoConfig } from "./repo-config.ts";

/**
 * `branches` and `paths` from the repo config. Returns why the build is skipped, or null.
 * Only pushes are filtered by branch: a PR is built whatever its branch is called.
 * Paths filter only when the changed paths are known (push payloads list them).
 */
export function skipReason(request: BuildRequest, config: RepoConfig | null): string | null {
  if (!config || request.rerun) return null;
  if (config.branches && request.trigger === "push" && request.branch) {
    const match = picomatch(config.branches, { dot: true });
    if (!match(request.branch)) {
      return `branch \`${request.branch}\` matches none of \`branches\` (${config.branches.map((b) => `\`${b}\``).join(", ")}) in .github/microship.yml`;
    }
  }
  if (config.paths && request.changedPaths) {
    const match = picomatch(config.paths, { dot: true });
    if (!request.changedPaths.some((p) => match(p))) {
      return `no changed file matches \`paths\` (${config.paths.map((p) => `\`${p}\``).join(", ")}) in .github/microship.yml`;
    }
  }
  return null;
}
