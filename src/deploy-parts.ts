import type { Deployer, DeploymentReporter } from "./core/deployer.ts";
import type { OpLog } from "./core/ports.ts";
import { PreviewTeardown } from "./core/deploy/preview-teardown.ts";
import { RollbackService, type RollbackDeps } from "./core/deploy/rollback-service.ts";
import type { ClientFor } from "./github/reporter/check-run-reporter.ts";
import { GitHubDeploymentReporter } from "./github/reporter/deployment-reporter.ts";

export interface DeployParts {
  /** What the pipeline's deploy stage runs with. */
  pipeline: { deployer: Deployer | null; deployments: DeploymentReporter | null };
  /** Removes closed pull requests' previews; null when nothing deploys. */
  previews: PreviewTeardown | null;
}

/** The deployer's companions: GitHub's deployments and the teardown of closed previews. */
export function deployParts(deployer: Deployer | null, clientFor: ClientFor, log: OpLog): DeployParts {
  if (!deployer) return { pipeline: { deployer: null, deployments: null }, previews: null };
  const deployments = new GitHubDeploymentReporter(clientFor);
  return { pipeline: { deployer, deployments }, previews: new PreviewTeardown({ deployer, deployments, log }) };
}

/** `/rollback`'s service, with what the pipeline deploys with; null when nothing deploys. */
export function rollbackService(deps: Omit<RollbackDeps, "deployer" | "deployments"> & { deployer?: RollbackDeps["deployer"] | null; deployments?: RollbackDeps["deployments"] | null }): RollbackService | null {
  if (!deps.deployer) return null;
  return new RollbackService({ ...deps, deployer: deps.deployer, deployments: deps.deployments ?? null });
}
