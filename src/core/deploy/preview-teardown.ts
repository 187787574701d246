import type { Deployer, DeploymentReporter } from "../deployer.ts";
import type { OpLog } from "../ports.ts";

export interface ClosedPullRequest {
  installationId: number;
  owner: string;
  repo: string;
  number: number;
}

/**
 * Removes a closed pull request's preview: its instances first, then GitHub's deployments go
 * inactive. It runs after the webhook is answered; a failure is logged, not retried: the
 * reconciler (reconciler.ts) finds the preview of a closed pull request on its next pass.
 */
export class PreviewTeardown {
  private readonly deps: { deployer: Deployer; deployments: DeploymentReporter | null; log: OpLog };
  private readonly running = new Set<Promise<void>>();

  constructor(deps: { deployer: Deployer; deployments: DeploymentReporter | null; log: OpLog }) {
    this.deps = deps;
  }

  closed(pr: ClosedPullRequest): void {
    const p = this.tearDown(pr).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Waits for teardowns under way (shutdown, tests). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  private async tearDown(pr: ClosedPullRequest): Promise<void> {
    const slug = `pr-${pr.number}`;
    const target = { kind: "preview" as const, environment: `preview/${slug}`, slug, transient: true, production: false };
    const log = this.deps.log.child({ owner: pr.owner, repo: pr.repo, pr: pr.number });
    try {
      const removed = await this.deps.deployer.teardown({ owner: pr.owner, repo: pr.repo, target }, AbortSignal.timeout(120_000));
      if (removed > 0) log.info({ removed }, "preview removed");
      await this.deps.deployments?.previewRemoved(pr.installationId, pr.owner, pr.repo, pr.number);
    } catch (err) {
      log.warn({ err }, "could not remove the preview of a closed pull request");
    }
  }
}
