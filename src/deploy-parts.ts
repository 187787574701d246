import type { Deployer, DeploymentReporter } from "./core/deployer.ts";
import type { OpLog } from "./core/ports.ts";
import type { Store } from "./core/store.ts";
import { DeploymentLocks } from "./core/deploy/deployment-lock.ts";
import { PreviewReconciler } from "./core/deploy/reconciler.ts";
import { PreviewTeardown } from "./core/deploy/preview-teardown.ts";
import { RollbackService, type RollbackDeps } from "./core/deploy/rollback-service.ts";
import type { ClientFor } from "./github/reporter/check-run-reporter.ts";
import { GitHubDeploymentReporter } from "./github/reporter/deployment-reporter.ts";
import { GitHubPullRequestStates } from "./github/pull-request-states.ts";

export interface DeployParts {
  /** What the pipeline's deploy stage runs with. */
  pipeline: { deployer: Deployer | null; deployments: DeploymentReporter | null; deployLocks: DeploymentLocks | null };
  /** Removes closed pull requests' previews; null when nothing deploys. */
  previews: PreviewTeardown | null;
  /** Removes previews of closed pull requests and expired ones every few minutes; already started (stop() it on close). */
  reconciler: PreviewReconciler | null;
}

/** The deployer's companions: GitHub's deployments, the teardown of closed previews, the reconciler and the deploy locks. */
export function deployParts(deployer: Deployer | null, clientFor: ClientFor, log: OpLog, o: { store?: Store; reconcileMinutes?: number } = {}): DeployParts {
  if (!deployer) return { pipeline: { deployer: null, deployments: null, deployLocks: null }, previews: null, reconciler: null };
  const deployments = new GitHubDeploymentReporter(clientFor);
  const deployLocks = new DeploymentLocks(o.store ?? null);
  const reconciler = new PreviewReconciler(
    { deployer, deployments, pulls: new GitHubPullRequestStates(clientFor), locks: deployLocks, log },
    { intervalMs: (o.reconcileMinutes ?? 5) * 60_000 },
  );
  reconciler.start();
  return { pipeline: { deployer, deployments, deployLocks }, previews: new PreviewTeardown({ deployer, deployments, log }), reconciler };
}

/** `/rollback`'s service, with what the pipeline deploys with; null when nothing deploys. */
export function rollbackService(deps: Omit<RollbackDeps, "deployer" | "deployments"> & { deployer?: RollbackDeps["deployer"] | null; deployments?: RollbackDeps["deployments"] | null }): RollbackService | null {
  if (!deps.deployer) return null;
  return new RollbackService({ ...deps, deployer: deps.deployer, deployments: deps.deployments ?? null });
}
