import { randomUUID } from "node:crypto";
import type { BuildRecord } from "./build.ts";
import { cancelledError, LeaseLostError } from "./errors.ts";
import type { CheckRunOpener } from "./check-run-opener.ts";
import { concludeAbandoned } from "./conclude-abandoned.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import type { Queue } from "./queue.ts";
import { runBuild } from "./run-build.ts";

export interface WorkerPoolOptions {
  queue: Queue;
  opener: CheckRunOpener;
  pipeline: PipelineDeps;
  concurrency: number;
  leaseMs?: number;
  pollMs?: number;
  /** A build taken this many times (crashes included) is concluded instead of resumed. */
  maxTries?: number;
  workerId?: string;
  /** This replica's host (its layer cache) and how long a build is left to its scope's host: see ClaimOptions. */
  hostId?: string;
  affinityMs?: number;
}

/**
 * A running build asked to stop: a newer commit replaced it, its pull request closed, or someone
 * cancelled it. Which one is not known here (another replica may have asked): a build a newer one
 * replaced is told so at its end, from the store (withSupersede).
 */
const stopped = () => cancelledError("The build was stopped while it ran.", { title: "Build cancelled" });

type Defaulted = Required<Omit<WorkerPoolOptions, "hostId" | "affinityMs">> & Pick<WorkerPoolOptions, "hostId" | "affinityMs">;

/**
 * Claims builds from the queue, runs each with a heartbeat that renews its lease and picks up
 * cancel requests, and sweeps for lapsed leases left by a crashed process.
 */
export class WorkerPool {
  private readonly o: Defaulted;
  private readonly running = new Map<string, AbortController>();
  private readonly done = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private pumping = false;
  private sweeping = false;

  constructor(options: WorkerPoolOptions) {
    // `??`, not a spread under defaults: main.ts passes `leaseMs: undefined` when nothing overrides it,
    // which a spread would keep (a NaN lease and a heartbeat and sweep every millisecond).
    this.o = {
      ...options, leaseMs: options.leaseMs ?? 30_000, pollMs: options.pollMs ?? 1_000, maxTries: options.maxTries ?? 2,
      workerId: options.workerId ?? `worker-${randomUUID().slice(0, 8)}`,
    };
  }

  get active(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    await this.recover();
    await this.o.opener.sweep();
    this.timer = setInterval(() => {
      // One sweep at a time: under load (or with the database away) a sweep outlasts the poll, and overlapping ones only add to the load.
      if (!this.sweeping) {
        this.sweeping = true;
        void this.recover().then(() => this.o.opener.sweep()).catch((err) => this.o.pipeline.log.error({ err }, "recovery sweep failed")).finally(() => (this.sweeping = false));
      }
      this.wake();
    }, this.o.pollMs);
    this.timer.unref();
    this.wake();
  }

  wake(): void {
    if (this.stopping || this.pumping) return;
    this.pumping = true;
    // A claim that fails (the database restarting) must not take the process down: the next poll tries again.
    void this.pump().catch((err) => this.o.pipeline.log.warn({ err }, "claiming a build failed; retrying on the next poll")).finally(() => {
      this.pumping = false;
    });
  }

  cancel(buildId: string, reason: unknown = stopped()): void {
    this.running.get(buildId)?.abort(reason);
  }

  /** Stops taking work and waits for builds in flight; what is still running after `graceMs` is left to lapse and resume. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    const all = Promise.allSettled([...this.done]);
    await Promise.race([all, new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  private async pump(): Promise<void> {
    while (!this.stopping && this.running.size < this.o.concurrency) {
      const build = await this.o.queue.claim({ workerId: this.o.workerId, leaseMs: this.o.leaseMs, maxRunning: this.o.concurrency, hostId: this.o.hostId, affinityMs: this.o.affinityMs });
      if (!build) return;
      const p = this.run(build).finally(() => {
        this.done.delete(p);
        this.wake();
      });
      this.done.add(p);
    }
  }

  private async run(build: BuildRecord): Promise<void> {
    const controller = new AbortController();
    this.running.set(build.id, controller);
    const log = this.o.pipeline.log.child({ buildId: build.id });
    const beat = setInterval(() => {
      void this.o.queue.heartbeat(build.id, this.o.workerId, this.o.leaseMs).then(({ held, cancelRequested }) => {
        if (cancelRequested) controller.abort(stopped());
        else if (!held) controller.abort(new LeaseLostError());
      }).catch((err) => log.warn({ err }, "heartbeat failed"));
    }, Math.max(250, Math.floor(this.o.leaseMs / 3)));
    try {
      const checkRunId = await this.o.opener.ensure(build);
      const current = { ...build, checkRunId: checkRunId ?? build.checkRunId };
      if (build.cancelRequested) controller.abort(stopped());
      log.info({ sha: build.request.sha, repo: `${build.request.owner}/${build.request.repo}` }, "build started");
      const outcome = await runBuild(current, controller.signal, { ...this.o.pipeline, log });
      log.info({ conclusion: outcome.conclusion }, "build finished");
    } catch (err) {
      // The build reports its own failures; reaching here means reporting itself failed.
      log.error({ err }, "build could not be reported; its lease will lapse and recovery will conclude it");
      clearInterval(beat);
      this.running.delete(build.id);
      return;
    }
    clearInterval(beat);
    this.running.delete(build.id);
  }

  /** Lapsed leases: resume what can be resumed, conclude the rest so no check run spins forever. */
  async recover(): Promise<void> {
    const own = { workerId: this.o.workerId, buildIds: [...this.running.keys()], leaseMs: this.o.leaseMs };
    const { requeued, abandoned } = await this.o.queue.recoverExpired(this.o.maxTries, Date.now(), own);
    const { log } = this.o.pipeline;
    for (const build of requeued) log.warn({ buildId: build.id, tries: build.tries }, "build interrupted; queued again");
    for (const build of abandoned) {
      try {
        await concludeAbandoned(build, this.o.opener, this.o.pipeline);
        log.warn({ buildId: build.id }, "interrupted build concluded");
      } catch (err) {
        log.error({ err, buildId: build.id }, "could not conclude an interrupted build; will retry");
      }
    }
  }
}
