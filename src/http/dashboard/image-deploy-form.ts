import type { Request, Response } from "express";
import type { ImageDeployHow } from "../../core/deploy/image-deploy.ts";
import type { RollbackRequest, RollbackResult, RollbackService, RollbackStep } from "../../core/deploy/rollback-service.ts";
import type { LiveDeployment } from "../../core/deployer.ts";
import { writableDeployment, type DeploymentsDeps } from "./deployments-route.ts";
import type { DashboardRollbacks } from "./rollback-route.ts";
import type { Session } from "./session.ts";
import { renderMessage } from "./views.ts";

/** The page waits this long for the image to be healthy; past it the deploy goes on and the page says so. */
const RESULT_WAIT_MS = 120_000;

/** "production of owner/repo (app)": how the pages name one row's deployment. */
export function whereOf(found: Pick<LiveDeployment, "owner" | "repo" | "app" | "target">): string {
  return `${found.target.environment} of ${found.owner}/${found.repo}${found.app ? ` (${found.app})` : ""}`;
}

/** A posted row a writer may deploy an earlier image to, with the request `/rollback` would make for its target. */
export interface ImageDeployForm {
  session: Session;
  found: LiveDeployment;
  request: RollbackRequest;
  where: string;
  /** Answers 409 with why nothing was done. */
  refuse(reason: string): void;
  /** The operator log's line for what the user started. */
  started(sha: string): void;
}

/**
 * What rollback and redeploy share before they plan: CSRF, the row among what the user sees,
 * write access (writableDeployment), then GitHub's history and the base branch's config for
 * the row's target. Null after answering.
 */
export async function imageDeployForm(deps: DeploymentsDeps & { rollbacks: DashboardRollbacks }, req: Request, res: Response, o: { doing: string; kind: "rollback" | "redeploy"; nothing: string }): Promise<ImageDeployForm | null> {
  const ok = await writableDeployment(deps, req, res, o.doing);
  if (!ok) return null;
  const { session, found, installationId } = ok;
  const refuse = (reason: string) => renderMessage(res, 409, session, `Nothing ${o.nothing}`, `Nothing was ${o.nothing}: ${reason}.`);
  const made = await deps.rollbacks.requests.forTarget(installationId, found.owner, found.repo, found.target);
  if (!made.ok) {
    refuse(made.reason);
    return null;
  }
  const started = (sha: string) =>
    deps.log.info({ owner: found.owner, repo: found.repo, environment: found.target.environment, app: found.app, sha, login: session.login }, `${o.kind} from the dashboard`);
  return { session, found, request: made.request, where: whereOf(found), refuse, started };
}

/**
 * Starts the deploy of an earlier image (rollback or redeploy) and waits for how it ended, at
 * most RESULT_WAIT_MS: null when it is still going (its GitHub deployment tells how it ends).
 */
export function startAndWait(service: Pick<RollbackService, "start">, request: RollbackRequest, steps: RollbackStep[], how: ImageDeployHow): Promise<RollbackResult[] | null> {
  return new Promise<RollbackResult[] | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), RESULT_WAIT_MS);
    service.start(request, steps, async (r) => {
      clearTimeout(timer);
      resolve(r);
    }, how);
  });
}
