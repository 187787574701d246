import type { GitHubRequester } from "./check-run-reporter.ts";

/** GitHub's limit on a deployment status's description. */
const MAX_DESCRIPTION = 140;

/**
 * A deployment someone made on GitHub that microship will not carry out (no image of its sha,
 * its pull request closed): its status says why, so it does not stay queued forever.
 */
export async function refuseDeployment(gh: GitHubRequester, o: { owner: string; repo: string; deploymentId: number; why: string }): Promise<void> {
  const description = o.why.length > MAX_DESCRIPTION ? `${o.why.slice(0, MAX_DESCRIPTION - 1)}…` : o.why;
  await gh.request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", { owner: o.owner, repo: o.repo, deployment_id: o.deploymentId, state: "failure", description });
}
