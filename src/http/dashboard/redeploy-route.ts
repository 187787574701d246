import type { Express, Request, Response } from "express";
import { startAndWait, whereOf } from "./image-deploy-wait.ts";
import { writableDeployment, type DeploymentsDeps } from "./deployments-route.ts";
import type { DashboardRollbacks } from "./rollback-route.ts";
import { renderMessage } from "./views.ts";

/**
 * Redeploy from the deployments page: the row's image (by digest) is deployed again as a fresh
 * instance (started, health-checked, traffic moved, the old one stopped), after a secret or the
 * config changed or the app wedged. The same RollbackService as rollback, with a new GitHub
 * deployment of that sha and the base branch's settings now. The form names an instance only.
 */
export function addRedeployRoute(app: Express, deps: DeploymentsDeps & { rollbacks: DashboardRollbacks }): void {
  app.post("/deployments/redeploy", (req, res, next) => void redeploy(deps, req, res).catch(next));
}

async function redeploy(deps: DeploymentsDeps & { rollbacks: DashboardRollbacks }, req: Request, res: Response): Promise<void> {
  const ok = await writableDeployment(deps, req, res, "Redeploying");
  if (!ok) return;
  const { session, found, installationId } = ok;
  const where = whereOf(found);
  const refuse = (reason: string) => renderMessage(res, 409, session, "Nothing redeployed", `Nothing was redeployed: ${reason}.`);
  if (found.state !== "running") return refuse(`${where} is ${found.state}, and only a running deployment is redeployed`);
  const made = await deps.rollbacks.requests.forTarget(installationId, found.owner, found.repo, found.target);
  if (!made.ok) return refuse(made.reason);
  const plan = await deps.rollbacks.service.planRedeploy(made.request, found);
  if (!plan.ok) return refuse(plan.reason);
  const sha = found.sha.slice(0, 12);
  deps.log.info({ owner: found.owner, repo: found.repo, environment: found.target.environment, app: found.app, sha: found.sha, login: session.login }, "redeploy from the dashboard");
  const results = await startAndWait(deps.rollbacks.service, made.request, plan.steps, { kind: "redeploy" });
  if (!results) return renderMessage(res, 202, session, "Redeploying", `${where} is still starting ${sha} again; its GitHub deployment tells how it ends.`);
  const failed = results.find((r) => !r.ok);
  if (failed) {
    return renderMessage(res, 200, session, "Redeploy failed", `Starting ${sha} again failed, so the instance that was running keeps serving ${where}: ${(failed.error ?? "no reason given").slice(0, 500)}`);
  }
  renderMessage(res, 200, session, "Redeployed", `${where} runs ${sha} on a fresh instance, serving at ${results[0]!.url}.`);
}
