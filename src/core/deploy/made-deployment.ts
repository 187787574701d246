import type { DeploymentState } from "../deployer.ts";
import { deployImage, type ImageDeployDeps, type ImageDeployRequest, type ImageDeployResult, type ImageStep } from "./image-deploy.ts";

/** GitHub's limit on a deployment status's description. */
const MAX_DESCRIPTION = 140;

/** The one status a deployment made on GitHub ends with, whatever number of apps it deployed. */
export interface DeploymentSummary {
  state: Extract<DeploymentState, "success" | "failure" | "error">;
  /** The first app's URL when every app serves; none otherwise. */
  url: string | null;
  /** Absent for a single app: the state's own words say it. */
  description?: string;
}

/**
 * Success only when every app succeeded (with the first app's URL); else `failure` when an app
 * failed for the user's reason, `error` when all failures were ours, naming the apps that failed.
 */
export function deploymentSummary(results: readonly ImageDeployResult[]): DeploymentSummary {
  const bad = results.filter((r) => !r.ok);
  if (bad.length === 0) {
    const url = results[0]?.url ?? null;
    return results.length > 1 ? { state: "success", url, description: `Ready: all ${results.length} apps deployed` } : { state: "success", url };
  }
  const state = bad.some((r) => r.state === "failure") ? "failure" : "error";
  if (results.length === 1) return { state, url: null };
  const names = (rs: readonly ImageDeployResult[]) => rs.map((r) => r.app ?? "app").join(", ");
  const good = results.filter((r) => r.ok);
  const text = `Deploy failed for ${names(bad)}${good.length > 0 ? `; deployed: ${names(good)}` : ""}`;
  return { state, url: null, description: text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text };
}

/** The apps in the order the build planned them (its outcome lists them so), the first being the one whose URL the deployment shows. */
function inPlanOrder(steps: readonly ImageStep[]): ImageStep[] {
  const order = steps[0]?.build.outcome?.apps?.map((a) => a.name) ?? [];
  const rank = (s: ImageStep) => (s.key.app === null ? -1 : order.includes(s.key.app) ? order.indexOf(s.key.app) : order.length);
  return [...steps].sort((a, b) => rank(a) - rank(b) || String(a.key.app).localeCompare(String(b.key.app)));
}

/**
 * A deployment someone made on GitHub, carried out for every app of its sha: the deployment gets
 * its statuses from here alone (in_progress once, then one ending for all apps), so with several
 * apps the last app's result no longer overwrites the others'. Each app still writes its own
 * line in a preview's comment, and its own deploy's lines into its build's log.
 */
export async function deployMadeDeployment(deps: ImageDeployDeps, req: ImageDeployRequest, steps: readonly ImageStep[], deploymentId: number, signal: AbortSignal): Promise<ImageDeployResult[]> {
  const ordered = inPlanOrder(steps);
  const first = ordered[0];
  if (!first) return [];
  const logUrl = deps.links.detailsUrl(first.build.id);
  const log = deps.log.child({ owner: req.owner, repo: req.repo, environment: first.key.target.environment, deploymentId });
  const tell = (state: DeploymentState, o: { url: string | null; description?: string }) =>
    deps.deployments?.status(first.build, first.key, deploymentId, state, { ...o, logUrl, only: "status", allApps: true }).catch((err) => log.warn({ err }, "could not write the deployment status"));
  await tell("in_progress", { url: null });
  const results: ImageDeployResult[] = [];
  for (const step of ordered) results.push(await deployImage(deps, req, step, { kind: "deployment", deploymentId }, signal));
  const summary = deploymentSummary(results);
  await tell(summary.state, { url: summary.url, ...(summary.description ? { description: summary.description } : {}) });
  return results;
}
