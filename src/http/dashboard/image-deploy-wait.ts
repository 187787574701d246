import type { ImageDeployHow } from "../../core/deploy/image-deploy.ts";
import type { RollbackRequest, RollbackResult, RollbackService, RollbackStep } from "../../core/deploy/rollback-service.ts";
import type { LiveDeployment } from "../../core/deployer.ts";

/** The page waits this long for the image to be healthy; past it the deploy goes on and the page says so. */
const RESULT_WAIT_MS = 120_000;

/** "production of owner/repo (app)": how the pages name one row's deployment. */
export function whereOf(found: Pick<LiveDeployment, "owner" | "repo" | "app" | "target">): string {
  return `${found.target.environment} of ${found.owner}/${found.repo}${found.app ? ` (${found.app})` : ""}`;
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
