import type { DeployTarget } from "./deploy-target.ts";
import type { RollbackRequest } from "./rollback-service.ts";

export type RollbackRequestResult = { ok: true; request: RollbackRequest } | { ok: false; reason: string };

/**
 * What a rollback needs besides the target, from outside: GitHub's deploy history of the target's
 * environment and the base branch's `deploy:` block (a preview's PR base, else the default branch),
 * so a rollback started from the dashboard runs exactly as `/rollback` would.
 */
export interface RollbackRequests {
  forTarget(installationId: number, owner: string, repo: string, target: DeployTarget): Promise<RollbackRequestResult>;
}
