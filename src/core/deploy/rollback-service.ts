import type { BuildRecord } from "../build.ts";
import type { Deployer, DeploymentKey, DeploymentReporter, DeploymentState } from "../deployer.ts";
import type { LinkSigner, OpLog, SecretSource } from "../ports.ts";
import type { Store } from "../store.ts";
import { isMicroshipError } from "../errors.ts";
import type { DeployConfig } from "./deploy-config.ts";
import { deploySettings } from "./deploy-settings.ts";
import type { DeployTarget } from "./deploy-target.ts";
import { forkDeployConfig } from "./fork-deploy.ts";
import { rollbackCandidates, type DeployHistoryEntry } from "./rollback-choice.ts";
import { deploymentLockName, type DeploymentLocks } from "./deployment-lock.ts";

export interface RollbackRequest {
  installationId: number;
  owner: string;
  repo: string;
  target: DeployTarget;
  /** The target's deploys, newest first, as GitHub's deployments recorded them. */
  history: DeployHistoryEntry[];
  /** The base branch's `deploy:` block now: the settings the old image runs with. */
  deploy: DeployConfig | undefined;
}

/** One app going back: the old build (its sha, its PR) and the image it deployed. */
export interface RollbackStep {
  build: BuildRecord;
  key: DeploymentKey;
  entry: DeployHistoryEntry;
}

export type RollbackPlan = { ok: true; steps: RollbackStep[] } | { ok: false; reason: string };

export interface RollbackResult {
  app: string | null;
  sha: string;
  ok: boolean;
  url: string | null;
  error: string | null;
}

export interface RollbackDeps {
  deployer: Deployer;
  deployments: DeploymentReporter | null;
  store: Store;
  secrets: SecretSource | null;
  links: LinkSigner;
  log: OpLog;
  /** The deploy stage's locks: a rollback never runs beside a deploy of the same app and target. */
  deployLocks?: DeploymentLocks | null;
}

/** A rollback waits at most this long for its deploys (the deployer has its own, shorter, limits). */
const ROLLBACK_TIMEOUT_MS = 15 * 60_000;

/**
 * `/rollback`: each app of the target goes back to the image it ran before, through the same
 * Deployer (health check first; on failure the current one keeps serving), with a new GitHub
 * deployment of the old sha. Nothing is rebuilt. Planned while the comment's webhook waits (so
 * "nothing to go back to" is answered at once), deployed after it is answered.
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

  /** Deploys the plan in the background; `done` hears how each app went. */
  start(req: RollbackRequest, plan: RollbackStep[], done: (results: RollbackResult[]) => Promise<void>): void {
    const p = this.run(req, plan)
      .then(done)
      .catch((err) => this.deps.log.warn({ err, owner: req.owner, repo: req.repo }, "rollback failed"))
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Waits for rollbacks under way (shutdown, tests). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** The newest earlier image whose build we still know and whose own deploy did not fail. */
  private async firstUsable(req: RollbackRequest, app: string | null, current: string): Promise<RollbackStep | null> {
    for (const entry of rollbackCandidates(req.history, app, current)) {
      const build = await this.deps.store.getBuild(entry.buildId);
      if (!build || build.request.owner !== req.owner || build.request.repo !== req.repo) continue;
      if (build.request.sha !== entry.sha || (build.outcome?.deploy && !build.outcome.deploy.ok)) continue;
      // A single app's build records its image: the payload must name that one.
      if (build.outcome?.image && (build.outcome.image.digest !== entry.digest || build.outcome.image.ref !== entry.imageRef)) continue;
      return { build, entry, key: { owner: req.owner, repo: req.repo, app, target: req.target } };
    }
    return null;
  }

  private async run(req: RollbackRequest, steps: RollbackStep[]): Promise<RollbackResult[]> {
    const signal = AbortSignal.timeout(ROLLBACK_TIMEOUT_MS);
    const results: RollbackResult[] = [];
    for (const step of steps) results.push(await this.rollOne(req, step, signal));
    return results;
  }

  private async rollOne(req: RollbackRequest, step: RollbackStep, signal: AbortSignal): Promise<RollbackResult> {
    const { build, key, entry } = step;
    const log = this.deps.log.child({ owner: req.owner, repo: req.repo, environment: key.target.environment, app: key.app });
    const github = this.deps.deployments;
    const logUrl = this.deps.links.detailsUrl(build.id);
    const id = github ? await github.created(build, key, { imageRef: entry.imageRef, digest: entry.digest, rollback: true }).catch(() => null) : null;
    const tell = (state: DeploymentState, url: string | null) =>
      github && id !== null ? github.status(build, key, id, state, { url, logUrl }).catch((err) => log.warn({ err }, "could not write the rollback's deployment status")) : undefined;
    let unlock: (() => Promise<void>) | null = null;
    try {
      unlock = this.deps.deployLocks ? await this.deps.deployLocks.acquire(deploymentLockName(key), signal) : null;
      return await this.deployOld(req, step, signal, tell, log);
    } catch (err) {
      // Only the wait for another deploy of this target can end here (its time ran out).
      await tell("error", null);
      return { app: key.app, sha: build.request.sha, ok: false, url: null, error: err instanceof Error ? err.message : String(err) };
    } finally {
      await unlock?.();
    }
  }

  private async deployOld(req: RollbackRequest, { build, key, entry }: RollbackStep, signal: AbortSignal, tell: (s: DeploymentState, url: string | null) => Promise<void> | undefined, log: OpLog): Promise<RollbackResult> {
    await tell("in_progress", null);
    const fork = build.request.pr?.fork ?? false;
    // A fork's image runs with what a fork's approved preview gets: preview.env, no secrets.
    const deploy = fork ? forkDeployConfig(req.deploy) : req.deploy;
    const settings = deploySettings(deploy, key.target);
    try {
      const secrets = fork ? {} : await this.secretEnv(build, deploy?.secrets ?? []);
      const result = await this.deps.deployer.deploy({
        ...key, installationId: req.installationId, sha: build.request.sha, imageRef: entry.imageRef, digest: entry.digest,
        port: settings.port, health: settings.health, expiresAt: settings.expiresAt, idleMinutes: settings.idleMinutes,
        env: { ...secrets, ...settings.env }, signal, log: (text) => log.info(text),
      });
      await tell("success", result.url);
      return { app: key.app, sha: build.request.sha, ok: true, url: result.url, error: null };
    } catch (err) {
      const users = isMicroshipError(err) && err.kind === "user";
      if (!users) log.error({ err }, "rollback deploy failed on our side");
      await tell(users ? "failure" : "error", null);
      return { app: key.app, sha: build.request.sha, ok: false, url: null, error: err instanceof Error ? err.message : String(err) };
    }
  }

  private async secretEnv(build: BuildRecord, names: string[]): Promise<Record<string, string>> {
    if (names.length === 0 || !this.deps.secrets) return {};
    const wanted = new Set(names);
    const env: Record<string, string> = {};
    for (const s of await this.deps.secrets.secretsFor(build.request)) if (wanted.has(s.id)) env[s.id] = s.value;
    return env;
  }
}
