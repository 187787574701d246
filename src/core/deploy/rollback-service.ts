import { redeployStep, shaSteps, usableStep, type ServingImage } from "./image-choice.ts";
import { deployImage, type ImageDeployDeps, type ImageDeployHow, type ImageDeployRequest, type ImageDeployResult, type ImageStep } from "./image-deploy.ts";
import { deployMadeDeployment } from "./made-deployment.ts";
import { rollbackCandidates, type DeployHistoryEntry } from "./rollback-choice.ts";

export interface RollbackRequest extends ImageDeployRequest {
  /** The target's deploys, newest first, as GitHub's deployments recorded them. */
  history: DeployHistoryEntry[];
}

/** One app going back (or deployed again): the old build (its sha, its PR) and the image it deployed. */
export type RollbackStep = ImageStep;

export type RollbackPlan = { ok: true; steps: RollbackStep[] } | { ok: false; reason: string };

export type RollbackResult = ImageDeployResult;

export type RollbackDeps = ImageDeployDeps;

/** A rollback waits at most this long for its deploys (the deployer has its own, shorter, limits). */
const ROLLBACK_TIMEOUT_MS = 15 * 60_000;

/**
 * Deploys images microship built before, through the same Deployer as the deploy stage (health
 * check first; on failure the current one keeps serving); nothing is rebuilt (image-deploy.ts).
 * `/rollback` plans each app's previous image; the dashboard's Redeploy the image that serves
 * (a fresh instance); a deployment made on GitHub the images of its sha. Planned while the
 * caller waits (so "nothing to deploy" is answered at once), deployed after it is answered.
 */
export class RollbackService {
  private readonly deps: RollbackDeps;
  private readonly running = new Set<Promise<void>>();

  constructor(deps: RollbackDeps) {
    this.deps = deps;
  }

  async plan(req: RollbackRequest, signal: AbortSignal): Promise<RollbackPlan> {
    const live = (await this.deps.deployer.list({ owner: req.owner, repo: req.repo }, signal))
      .filter((d) => d.target.kind === req.target.kind && d.target.slug === req.target.slug && d.state !== "failed")
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const apps = [...new Set(live.map((d) => d.app))];
    if (apps.length === 0) return { ok: false, reason: `nothing runs in ${req.target.environment} now` };
    const steps: RollbackStep[] = [];
    for (const app of apps) {
      const current = live.find((d) => d.app === app)!.digest;
      const step = await this.firstUsable(req, app, current);
      if (step) steps.push(step);
    }
    if (steps.length === 0) return { ok: false, reason: `${req.target.environment} has no earlier image to go back to` };
    return { ok: true, steps };
  }

  /** A redeploy of what serves now: its image by digest, the build that made it. */
  async planRedeploy(req: RollbackRequest, serving: ServingImage): Promise<RollbackPlan> {
    const step = await redeployStep(this.deps.store, req, req.history, serving);
    if (!step) return { ok: false, reason: `microship no longer knows the build of the image serving ${req.target.environment} (${serving.sha.slice(0, 12)})` };
    return { ok: true, steps: [step] };
  }

  /** A deployment of one sha made on GitHub: the images microship built of it. */
  planSha(req: RollbackRequest, sha: string): Promise<RollbackPlan> {
    return shaSteps(this.deps.store, req, req.history, sha);
  }

  /** Deploys the plan in the background (as a rollback unless told otherwise); `done` hears how each app went. */
  start(req: RollbackRequest, plan: RollbackStep[], done: (results: RollbackResult[]) => Promise<void>, how: ImageDeployHow = { kind: "rollback" }): void {
    const p = this.run(req, plan, how)
      .then(done)
      .catch((err) => this.deps.log.warn({ err, owner: req.owner, repo: req.repo, how: how.kind }, "deploying an earlier image failed"))
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Waits for deploys under way (shutdown, tests). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** The newest earlier image whose build we still know and whose own deploy did not fail. */
  private async firstUsable(req: RollbackRequest, app: string | null, current: string): Promise<RollbackStep | null> {
    for (const entry of rollbackCandidates(req.history, app, current)) {
      const step = await usableStep(this.deps.store, req, app, entry);
      if (step) return { ...step, entry };
    }
    return null;
  }

  private async run(req: RollbackRequest, steps: ImageStep[], how: ImageDeployHow): Promise<RollbackResult[]> {
    const signal = AbortSignal.timeout(ROLLBACK_TIMEOUT_MS);
    if (how.kind === "deployment" && how.deploymentId !== undefined) return deployMadeDeployment(this.deps, req, steps, how.deploymentId, signal);
    const results: RollbackResult[] = [];
    for (const step of steps) results.push(await deployImage(this.deps, req, step, how, signal));
    return results;
  }
}
