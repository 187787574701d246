import type { Deployer, DeploymentReporter, LiveDeployment } from "../deployer.ts";
import type { OpLog } from "../ports.ts";
import { deploymentLockName, type DeploymentLocks } from "./deployment-lock.ts";

/** GitHub's answer on one pull request; only src/github/ implements it. */
export interface PullRequestStates {
  /** False for a closed or merged pull request, and for one GitHub no longer has (404). */
  isOpen(installationId: number, owner: string, repo: string, number: number): Promise<boolean>;
}

export interface ReconcilerDeps {
  deployer: Deployer;
  deployments: DeploymentReporter | null;
  pulls: PullRequestStates;
  locks: DeploymentLocks;
  log: OpLog;
}

export interface ReconcilerOptions {
  /** Between the end of one pass and the start of the next. */
  intervalMs: number;
  /** Previews looked at (a GitHub read or a teardown each) per pass; the rest wait for the next. */
  maxPerPass?: number;
  now?: () => number;
}

export interface PassReport {
  /** False when another replica (or a pass of this one) was reconciling. */
  ran: boolean;
  removed: { owner: string; repo: string; environment: string; reason: "closed" | "expired" }[];
  /** "owner/repo" whose pass failed (GitHub or the backend erred); tried again next pass. */
  failed: string[];
}

/** One preview as the backend lists it: every app's instances of one pull request's target. */
interface Preview {
  owner: string;
  repo: string;
  installationId: number;
  number: number;
  environment: string;
  slug: string;
  apps: (string | null)[];
  expiresAt: number | null;
}

/** Held by the replica reconciling; the others skip their pass. */
export const RECONCILER_LOCK = "microship:reconciler";

/**
 * Removes previews that should be gone: their pull request closed (a lost `closed` webhook, a
 * restart mid-teardown) or their TTL passed. What runs comes from the backend's own tags, so a
 * preview no record of ours knows of is found too; environments are never touched. One pass at a
 * time per process, one replica at a time (a store lock), a bounded number of previews per
 * pass, and one repository's failure leaves the others' work alone. A preview being deployed is
 * skipped (its deploy lock is held) and looked at again next pass.
 */
export class PreviewReconciler {
  private readonly deps: ReconcilerDeps;
  private readonly o: Required<ReconcilerOptions>;
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<PassReport> | null = null;
  private stopped = false;
  private cursor = 0;
  private readonly stopping = new AbortController();

  constructor(deps: ReconcilerDeps, o: ReconcilerOptions) {
    this.deps = deps;
    this.o = { maxPerPass: 100, now: Date.now, ...o };
  }

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.pass?.catch(() => undefined);
  }

  /** One pass now; a pass already running is joined, not doubled. */
  runOnce(): Promise<PassReport> {
    this.pass ??= this.reconcile().finally(() => (this.pass = null));
    return this.pass;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce()
        .catch((err) => this.deps.log.warn({ err }, "preview reconciler pass failed"))
        .finally(() => this.schedule());
    }, this.o.intervalMs);
    this.timer.unref();
  }

  private async reconcile(): Promise<PassReport> {
    const report: PassReport = { ran: false, removed: [], failed: [] };
    const unlock = await this.deps.locks.tryAcquire(RECONCILER_LOCK);
    if (!unlock) return report;
    try {
      report.ran = true;
      const previews = this.turn(previewsOf(await this.deps.deployer.list(null, this.signal())));
      const failed = new Set<string>();
      for (const p of previews) {
        const repoName = `${p.owner}/${p.repo}`;
        if (this.stopped) break;
        if (failed.has(repoName)) continue;
        try {
          const reason = await this.verdict(p);
          if (reason && (await this.remove(p, reason))) report.removed.push({ owner: p.owner, repo: p.repo, environment: p.environment, reason });
        } catch (err) {
          failed.add(repoName);
          this.deps.log.warn({ err, owner: p.owner, repo: p.repo, environment: p.environment }, "preview reconciler skipped a repository this pass");
        }
      }
      report.failed = [...failed];
      return report;
    } finally {
      await unlock();
    }
  }

  /** This pass's share: where the last one stopped, so previews past the bound get their turn too. */
  private turn(previews: Preview[]): Preview[] {
    if (previews.length <= this.o.maxPerPass) return previews;
    const start = this.cursor % previews.length;
    this.cursor = start + this.o.maxPerPass;
    return [...previews, ...previews].slice(start, start + this.o.maxPerPass);
  }

  /** Why the preview must go, or null while it may stay. Expiry needs no GitHub read. */
  private async verdict(p: Preview): Promise<"closed" | "expired" | null> {
    if (p.expiresAt !== null && p.expiresAt <= this.o.now()) return "expired";
    return (await this.deps.pulls.isOpen(p.installationId, p.owner, p.repo, p.number)) ? null : "closed";
  }

  /** Tears the preview down under its apps' deploy locks; false when a deploy of it is running. */
  private async remove(p: Preview, reason: "closed" | "expired"): Promise<boolean> {
    const target = { kind: "preview" as const, environment: p.environment, slug: p.slug, transient: true, production: false };
    const unlocks: (() => Promise<void>)[] = [];
    try {
      for (const app of p.apps) {
        const unlock = await this.deps.locks.tryAcquire(deploymentLockName({ owner: p.owner, repo: p.repo, app, target }));
        if (!unlock) return false;
        unlocks.push(unlock);
      }
      const removed = await this.deps.deployer.teardown({ owner: p.owner, repo: p.repo, target }, this.signal());
      await this.deps.deployments?.previewRemoved(p.installationId, p.owner, p.repo, p.number, reason);
      this.deps.log.info({ owner: p.owner, repo: p.repo, environment: p.environment, reason, instances: removed }, `preview removed by the reconciler (${reason})`);
      return true;
    } finally {
      for (const unlock of unlocks) await unlock();
    }
  }

  private signal(): AbortSignal {
    return AbortSignal.any([this.stopping.signal, AbortSignal.timeout(120_000)]);
  }
}

/** The previews among what runs, one per repo and pull request; the latest expiry of its instances counts. */
export function previewsOf(live: LiveDeployment[]): Preview[] {
  const byTarget = new Map<string, Preview>();
  for (const d of live) {
    const number = prNumber(d.target.slug);
    if (d.target.kind !== "preview" || number === null) continue;
    const id = `${d.owner}/${d.repo}#${number}`.toLowerCase();
    const expiresAt = d.expiresAt ? d.expiresAt.getTime() : null;
    const seen = byTarget.get(id);
    if (!seen) {
      byTarget.set(id, { owner: d.owner, repo: d.repo, installationId: d.installationId, number, environment: d.target.environment, slug: d.target.slug, apps: [d.app], expiresAt });
      continue;
    }
    if (!seen.apps.includes(d.app)) seen.apps.push(d.app);
    // An instance without an expiry keeps the preview until its pull request closes.
    seen.expiresAt = seen.expiresAt === null || expiresAt === null ? null : Math.max(seen.expiresAt, expiresAt);
  }
  return [...byTarget.values()];
}

/** `pr-{n}` → n; anything else (tags are only as good as whoever wrote them) → null. */
function prNumber(slug: string): number | null {
  if (!slug.startsWith("pr-") || slug.length > 13) return null;
  const digits = slug.slice(3);
  for (const c of digits) if (c < "0" || c > "9") return null;
  const n = Number(digits);
  return digits.length > 0 && Number.isSafeInteger(n) && n > 0 ? n : null;
}
