import type { BuildRecord } from "./build.ts";
import { concludeRun } from "./conclude-run.ts";
import { endDuplicateRun } from "./check-runs.ts";
import { cancelledOutcome } from "./ending-outcomes.ts";
import { noMetrics, type ChecksReporter, type LinkSigner, type OpLog } from "./ports.ts";
import type { Store } from "./store.ts";

/**
 * Creates each build's `queued` check run exactly once, outside the webhook path. The webhook
 * handler only enqueues; this runs right after, and a sweep catches what a crash left behind.
 * Concurrent callers for one build share one request, so the worker never opens a second run.
 * Whenever the store has no run id, the reporter first looks for a run of this build on GitHub
 * (by `external_id`) and adopts it: a crash after GitHub created the run but before its id was
 * stored leaves neither a second run nor the first one stuck `queued`.
 */
export class CheckRunOpener {
  private readonly store: Store;
  private readonly reporter: ChecksReporter;
  private readonly log: OpLog;
  private readonly links: LinkSigner | null;
  private readonly inFlight = new Map<string, Promise<number | null>>();

  constructor(store: Store, reporter: ChecksReporter, log: OpLog, links: LinkSigner | null = null) {
    this.store = store;
    this.reporter = reporter;
    this.log = log;
    this.links = links;
  }

  ensure(build: BuildRecord): Promise<number | null> {
    if (build.checkRunId !== null) return Promise.resolve(build.checkRunId);
    const running = this.inFlight.get(build.id);
    if (running) return running;
    const open = async () => {
      const fresh = await this.store.getBuild(build.id);
      if (fresh?.checkRunId != null) return fresh.checkRunId;
      if (fresh?.state === "completed") return null;
      const created = await this.reporter.queued(build);
      const id = await this.store.setCheckRunId(build.id, created);
      if (id !== created) await this.endDuplicate(build, created, id);
      // Cancelled (superseded, PR closed) while the create was in flight: whoever cancelled it saw
      // no run to conclude, so the run just created would stay queued for ever.
      const after = await this.store.getBuild(build.id);
      if (after?.state === "completed") await this.concludeLate({ ...after, checkRunId: id }, id);
      return id;
    };
    // Another replica may be opening this build's run right now: after its lock, `fresh` has the id.
    const p = (this.store.withBuildLock ? this.store.withBuildLock(build.id, open) : open()).finally(() => this.inFlight.delete(build.id));
    this.inFlight.set(build.id, p);
    return p;
  }

  /** Another opener stored its run first (the build lock was lost with a database restart): ours ends. */
  private async endDuplicate(build: BuildRecord, duplicate: number, kept: number): Promise<void> {
    this.log.warn({ buildId: build.id, duplicate, kept }, "a second check run was opened for a build; it is ended as skipped");
    await endDuplicateRun(build, duplicate, kept, { reporter: this.reporter, links: this.links });
  }

  private async concludeLate(build: BuildRecord, checkRunId: number): Promise<void> {
    const superseded = build.supersededBy ? await this.store.getBuild(build.supersededBy) : null;
    const outcome = build.outcome ?? cancelledOutcome(superseded);
    const deps = { store: this.store, reporter: this.reporter, links: this.links, metrics: noMetrics };
    await concludeRun(build, { outcome, checkRunId, tail: [], retry: false, storeEnded: true }, deps);
  }

  /** Opens the runs of every build still without one; failures are retried on the next sweep. */
  async sweep(): Promise<void> {
    for (const build of await this.store.buildsWithoutCheckRun(50)) {
      await this.ensure(build).catch((err) => this.log.warn({ err, buildId: build.id }, "could not open the check run yet"));
    }
  }
}
