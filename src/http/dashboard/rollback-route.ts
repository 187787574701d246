import type { Express, Request, Response } from "express";
import type { RollbackRequests } from "../../core/deploy/rollback-requests.ts";
import type { RollbackService } from "../../core/deploy/rollback-service.ts";
import { imageDeployForm, startAndWait } from "./image-deploy-form.ts";
import type { DeploymentsDeps } from "./deployments-route.ts";
import { renderMessage } from "./views.ts";

export interface DashboardRollbacks {
  service: Pick<RollbackService, "plan" | "planRedeploy" | "start">;
  requests: RollbackRequests;
}

/** Planning reads GitHub and the backend; the user waits for it. */
const PLAN_MS = 15_000;

/**
 * Rollback from the deployments page: the row's app goes back to the image it ran before, as
 * `/rollback` does it (the same RollbackService, GitHub's history, the base branch's settings).
 * The form names an instance, never a target or an image; the page shows how it ended.
 */
export function addRollbackRoute(app: Express, deps: DeploymentsDeps & { rollbacks: DashboardRollbacks }): void {
  app.post("/deployments/rollback", (req, res, next) => void rollback(deps, req, res).catch(next));
}

async function rollback(deps: DeploymentsDeps & { rollbacks: DashboardRollbacks }, req: Request, res: Response): Promise<void> {
  const form = await imageDeployForm(deps, req, res, { doing: "Rolling back", kind: "rollback", nothing: "rolled back" });
  if (!form) return;
  const { session, found, where, refuse } = form;
  const plan = await deps.rollbacks.service.plan(form.request, AbortSignal.timeout(PLAN_MS));
  if (!plan.ok) return refuse(plan.reason);
  // One row is one app: only it goes back, not the other apps of the same environment.
  const steps = plan.steps.filter((s) => s.key.app === found.app);
  if (steps.length === 0) return refuse(`${where} has no earlier image to go back to`);
  form.started(steps[0]!.build.request.sha);
  const results = await startAndWait(deps.rollbacks.service, form.request, steps, { kind: "rollback" });
  if (!results) return renderMessage(res, 202, session, "Rolling back", `${where} is still going back to ${steps[0]!.build.request.sha.slice(0, 12)}; its GitHub deployment tells how it ends.`);
  const failed = results.find((r) => !r.ok);
  if (failed) {
    return renderMessage(res, 200, session, "Rollback failed", `Going back to ${failed.sha.slice(0, 12)} failed, so the version that was running keeps serving ${where}: ${(failed.error ?? "no reason given").slice(0, 500)}`);
  }
  renderMessage(res, 200, session, "Rolled back", `${where} is back to ${results[0]!.sha.slice(0, 12)}, serving at ${results[0]!.url}.`);
}
