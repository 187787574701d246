import type { Express, Request, Response } from "express";
import type { Deployer, DeploymentReporter, LiveDeployment } from "../../core/deployer.ts";
import type { OpLog } from "../../core/ports.ts";
import type { Access } from "./access.ts";
import type { Session } from "./session.ts";
import { checkedForm } from "./form-body.ts";
import type { DashboardRollbacks } from "./rollback-route.ts";
import { sleepView } from "./sleep-view.ts";
import { renderMessage, renderPage } from "./views.ts";

export interface DeploymentsDeps {
  /** Null when nothing deploys: the page says so. */
  deployer: Deployer | null;
  deployments: DeploymentReporter | null;
  access: Access;
  log: OpLog;
  /** Rollback for writers; null (or absent) when nothing deploys. */
  rollbacks?: DashboardRollbacks | null;
}

/** What one page lists; a backend running more shows its newest. */
const MAX_SHOWN = 500;
const LIST_MS = 15_000;
const TEARDOWN_MS = 120_000;
const INSTANCE = /^[A-Za-z0-9._-]{1,200}$/;
const PREVIEW_SLUG = /^pr-([0-9]{1,9})$/;

const repoKey = (d: { owner: string; repo: string }) => `${d.owner}/${d.repo}`.toLowerCase();

/**
 * The deployments the backend reports (Deployer.list), only of repositories the user sees, and
 * Tear down for writers. The form names an instance, never a target: the target torn down is
 * the one the backend itself reports for that instance.
 */
export function addDeploymentsRoute(app: Express, deps: DeploymentsDeps): void {
  app.get("/deployments", (req, res, next) => void page(deps, req, res).catch(next));
  app.post("/deployments/teardown", (req, res, next) => void teardown(deps, req, res).catch(next));
}

async function visibleDeployments(deps: DeploymentsDeps, session: Session): Promise<LiveDeployment[]> {
  const visible = await deps.access.visible(session);
  const all = await deps.deployer!.list(null, AbortSignal.timeout(LIST_MS));
  return all
    .filter((d) => visible.has(repoKey(d)))
    .sort((a, b) => repoKey(a).localeCompare(repoKey(b)) || a.target.environment.localeCompare(b.target.environment) || b.createdAt.getTime() - a.createdAt.getTime())
    .slice(0, MAX_SHOWN);
}

async function page(deps: DeploymentsDeps, req: Request, res: Response): Promise<void> {
  const session = deps.access.session(req, res);
  if (!session) return;
  if (!deps.deployer) return renderPage(res, "deployments", { title: "Deployments", session, off: true, rows: [], error: null, flash: null });
  let rows: { d: LiveDeployment; canWrite: boolean }[] = [];
  let error: string | null = null;
  try {
    const found = await visibleDeployments(deps, session);
    const visible = await deps.access.visible(session);
    rows = await Promise.all(found.map(async (d) => ({ d, canWrite: await deps.access.canWriteRepo(session, visible.get(repoKey(d))!, d.owner, d.repo) })));
  } catch (err) {
    deps.log.warn({ err }, "could not list deployments for the dashboard");
    error = `${deps.deployer.name} did not answer with its deployments; try again in a moment.`;
  }
  const flash = req.query.done === "teardown" ? "Torn down." : null;
  renderPage(res, "deployments", { title: "Deployments", session, off: false, rows, error, flash, canRollback: Boolean(deps.rollbacks), ...sleepView(deps.deployer, req.query.done) });
}

export interface WritableDeployment {
  session: Session;
  found: LiveDeployment;
  installationId: number;
}

/**
 * CSRF, then the posted instance as the backend lists it among what the user sees, then write
 * access; null after answering 403 or 404. `doing` names the action in the refusal.
 */
export async function writableDeployment(deps: DeploymentsDeps, req: Request, res: Response, doing: string): Promise<WritableDeployment | null> {
  const session = deps.access.session(req, res);
  if (!session) return null;
  const form = checkedForm(req, session);
  if (!form) {
    renderMessage(res, 403, session, "Refused", "The form was not this session's (its CSRF token did not match). Reload the page and try again.");
    return null;
  }
  const instance = form.get("instance") ?? "";
  const found = deps.deployer && INSTANCE.test(instance) ? (await visibleDeployments(deps, session)).find((d) => d.instance === instance) : undefined;
  if (!deps.deployer || !found) {
    renderMessage(res, 404, session, "Not found", "There is no deployment here that you can see.");
    return null;
  }
  const installationId = (await deps.access.visible(session)).get(repoKey(found))!;
  if (!(await deps.access.canWriteRepo(session, installationId, found.owner, found.repo))) {
    renderMessage(res, 403, session, "Refused", `${doing} needs write access to ${found.owner}/${found.repo}, and GitHub says you have less.`);
    return null;
  }
  return { session, found, installationId };
}

async function teardown(deps: DeploymentsDeps, req: Request, res: Response): Promise<void> {
  const ok = await writableDeployment(deps, req, res, "Tearing down");
  if (!ok) return;
  const { session, found, installationId } = ok;
  const removed = await deps.deployer!.teardown({ owner: found.owner, repo: found.repo, target: found.target }, AbortSignal.timeout(TEARDOWN_MS));
  const pr = found.target.kind === "preview" ? PREVIEW_SLUG.exec(found.target.slug) : null;
  // The instances are gone whatever GitHub says; its deployments going inactive is told, not awaited as a condition.
  if (pr) await deps.deployments?.previewRemoved(installationId, found.owner, found.repo, Number(pr[1])).catch((err) => deps.log.warn({ err }, "could not mark a torn-down preview's deployments inactive"));
  deps.log.info({ owner: found.owner, repo: found.repo, environment: found.target.environment, removed, login: session.login }, "teardown from the dashboard");
  res.redirect(303, "/deployments?done=teardown");
}
