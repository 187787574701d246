import type { DeploymentKey } from "../../core/deployer.ts";
import type { GitHubRequester } from "./check-run-reporter.ts";
import { listDeployments } from "./listed-deployments.ts";

/** Earlier deployments of one app looked at; older ones were retired by the deploys in between. */
const MAX_LOOKED_AT = 30;

/**
 * GitHub's `auto_inactive` retires every earlier successful deployment of an environment (those
 * neither transient nor production, as documented). In a repository of several apps each app has
 * its own deployments in one environment, so a success of `api` would retire `web`'s, which still
 * serves. Those statuses are sent with `auto_inactive: false`, and this does GitHub's job per
 * app: the earlier deployments of the same app (`payload.app`) whose newest status is `success`
 * get `inactive`, under the same documented rule.
 */
export async function retireEarlierOfApp(gh: GitHubRequester, key: DeploymentKey, deploymentId: number): Promise<number> {
  if (key.target.transient || key.target.production) return 0;
  const list = await listDeployments(gh, { owner: key.owner, repo: key.repo, environment: key.target.environment, perPage: MAX_LOOKED_AT });
  let retired = 0;
  for (const d of list) {
    const { payload } = d;
    if (d.id >= deploymentId || payload.app !== key.app) continue;
    const { data: statuses } = await gh.request("GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", {
      owner: key.owner, repo: key.repo, deployment_id: d.id, per_page: 1,
    });
    if (!Array.isArray(statuses) || (statuses[0] as { state?: string } | undefined)?.state !== "success") continue;
    await gh.request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", {
      owner: key.owner, repo: key.repo, deployment_id: d.id, state: "inactive", auto_inactive: false,
      description: `Replaced by a newer deployment of ${key.app}.`.slice(0, 140),
    });
    retired++;
  }
  return retired;
}
