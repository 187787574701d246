import type { Express, Request, Response } from "express";
import { imageDeployForm, startAndWait } from "./image-deploy-form.ts";
import type { DeploymentsDeps } from "./deployments-route.ts";
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
  const form = await imageDeployForm(deps, req, res, { doing: "Redeploying", kind: "redeploy", nothing: "redeployed" });
  if (!form) return;
  const { session, found, where, refuse } = form;
  if (found.state !== "running") return refuse(`${where} is ${found.state}, and only a running deployment is redeployed`);
  const plan = await deps.rollbacks.service.planRedeploy(form.request, found);
  if (!plan.ok) return refuse(plan.reason);
  const sha = found.sha.slice(0, 12);
  form.started(found.sha);
  const results = await startAndWait(deps.rollbacks.service, form.request, plan.steps, { kind: "redeploy" });
  if (!results) return renderMessage(res, 202, session, "Redeploying", `${where} is still starting ${sha} again; its GitHub deployment tells how it ends.`);
  const failed = results.find((r) => !r.ok);
  if (failed) {
    return renderMessage(res, 200, session, "Redeploy failed", `Starting ${sha} again failed, so the instance that was running keeps serving ${where}: ${(failed.error ?? "no reason given").slice(0, 500)}`);
  }
  renderMessage(res, 200, session, "Redeployed", `${where} runs ${sha} on a fresh instance, serving at ${results[0]!.url}.`);
}
