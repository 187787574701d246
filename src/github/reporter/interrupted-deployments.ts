import type { BuildRecord } from "../../core/build.ts";
import type { DeploymentKey } from "../../core/deployer.ts";
import type { GitHubRequester } from "./check-run-reporter.ts";
import { listDeployments } from "./listed-deployments.ts";

/** A build deploys one app to one environment a handful of times at most (resumes after crashes). */
const MAX_LOOKED_AT = 30;

/**
 * A deploy of this build and app that a crash cut short left its GitHub deployment queued or
 * in_progress for ever. Before the resumed build makes a new one, the earlier ones of the same
 * build, app and environment get an `error` status saying why, so none stays in progress.
 * The build id travels in each deployment's payload, which is how they are told apart.
 */
export async function endInterruptedDeployments(gh: GitHubRequester, build: BuildRecord, key: DeploymentKey): Promise<number> {
  const list = await listDeployments(gh, { owner: key.owner, repo: key.repo, sha: build.request.sha, environment: key.target.environment, perPage: MAX_LOOKED_AT });
  let ended = 0;
  for (const { id, payload } of list) {
    if (payload.build !== build.id || payload.app !== (key.app ?? "") || payload.rollback === true) continue;
    await gh.request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", {
      owner: key.owner, repo: key.repo, deployment_id: id, state: "error", description: "Interrupted: microship restarted during this deploy and ran it again.",
    });
    ended++;
  }
  return ended;
}
