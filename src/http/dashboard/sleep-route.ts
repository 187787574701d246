import type { Express, Request, Response } from "express";
import { InstanceNotFoundError, sleepable, type LiveDeployment } from "../../core/deployer.ts";
import { isMicroshipError } from "../../core/errors.ts";
import { writableDeployment, type DeploymentsDeps } from "./deployments-route.ts";
import { renderMessage } from "./views.ts";

/** How long the page waits for a sleep, and for a wake: past it the instance goes on starting and the page says so. */
const SLEEP_MS = 120_000;
const WAKE_WAIT_MS = 120_000;

type Action = "sleep" | "wake";

/**
 * Sleep and Wake from the deployments page, for writers, only when the deployer has both: the
 * same checks as Tear down (CSRF, the instance among what the user sees, write access), then
 * Deployer.sleep or wake of that instance; the page then shows its state.
 */
export function addSleepRoutes(app: Express, deps: DeploymentsDeps): void {
  if (!sleepable(deps.deployer)) return;
  app.post("/deployments/sleep", (req, res, next) => void act(deps, "sleep", req, res).catch(next));
  app.post("/deployments/wake", (req, res, next) => void act(deps, "wake", req, res).catch(next));
}

async function act(deps: DeploymentsDeps, action: Action, req: Request, res: Response): Promise<void> {
  const ok = await writableDeployment(deps, req, res, action === "sleep" ? "Putting a deployment to sleep" : "Waking a deployment up");
  if (!ok) return;
  const { session, found } = ok;
  if (!sleepable(deps.deployer)) return renderMessage(res, 404, session, "Not found", `${deps.deployer?.name ?? "This deployer"} can't put deployments to sleep.`);
  const key = { owner: found.owner, repo: found.repo, instance: found.instance };
  let state: LiveDeployment["state"];
  try {
    state = await deps.deployer[action](key, AbortSignal.timeout(action === "sleep" ? SLEEP_MS : WAKE_WAIT_MS));
  } catch (err) {
    if (err instanceof InstanceNotFoundError) return renderMessage(res, 404, session, "Not found", "There is no deployment here that you can see.");
    const title = action === "sleep" ? "Not put to sleep" : "Not woken up";
    // A user error says what to do; anything else stays in the operator's log.
    if (isMicroshipError(err) && err.kind === "user") return renderMessage(res, 409, session, title, err.message.slice(0, 1000));
    deps.log.warn({ err, instance: found.instance, action }, "a sleep or wake from the dashboard failed");
    return renderMessage(res, 502, session, title, `${deps.deployer.name} did not do it; try again in a moment.`);
  }
  deps.log.info({ owner: found.owner, repo: found.repo, instance: found.instance, action, state, login: session.login }, "sleep or wake from the dashboard");
  res.redirect(303, `/deployments?done=${action === "wake" && state !== "running" ? "waking" : action}`);
}
