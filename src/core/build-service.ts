import { randomUUID } from "node:crypto";
import type { BuildRecord } from "./build.ts";
import { concludeRun } from "./conclude-run.ts";
import { cancelledOutcome } from "./ending-outcomes.ts";
import { cancelledError, type MicroshipError } from "./errors.ts";
import type { BuildRequest } from "./types.ts";
import type { ChecksReporter, LinkSigner, Metrics, OpLog } from "./ports.ts";
import type { Store, SubmitResult } from "./store.ts";
import type { CheckRunOpener } from "./check-run-opener.ts";

export interface BuildServiceDeps {
  store: Store;
  reporter: ChecksReporter;
  opener: CheckRunOpener;
  links: LinkSigner;
  metrics: Metrics;
  log: OpLog;
  /** Wakes the workers; asks a running build to stop at once (the heartbeat would see it later anyway). */
  wake(): void;
  /** `why` becomes the build's ending (omitted: a newer build replaced it, or unknown). */
  cancelRunning(buildId: string, why?: MicroshipError): void;
}

/**
 * Where webhook handlers hand over. `submit` is one durable write and returns; everything that
 * talks to GitHub happens after, off the delivery's path (GitHub drops a delivery after 10 s).
 */
export class BuildService {
  private readonly deps: BuildServiceDeps;

  constructor(deps: BuildServiceDeps) {
    this.deps = deps;
  }

  async submit(request: BuildRequest): Promise<SubmitResult> {
    const result = await this.deps.store.submit(request);
    this.deps.metrics.delivery(request.trigger, result.kind);
    if (result.kind === "created") {
      this.deps.wake();
      for (const old of result.supersededRunning) this.deps.cancelRunning(old.id);
      setImmediate(() => void this.afterSubmit(result.build, result.supersededQueued));
    }
    return result;
  }

  async pullRequestClosed(owner: string, repo: string, prNumber: number): Promise<void> {
    const { queued, running } = await this.deps.store.cancelPullRequest(owner, repo, prNumber);
    for (const old of running) this.deps.cancelRunning(old.id, cancelledError("The pull request was closed while this build ran.", { title: "Build cancelled" }));
    setImmediate(() => void this.concludeCancelled(queued, "The pull request was closed before this build started."));
  }

  /** The dashboard's Rebuild: the build's own request again, as an explicit re-run by `login`. */
  async rebuild(build: BuildRecord, login: string): Promise<SubmitResult> {
    return this.submit({ ...build.request, deliveryId: `dashboard:${randomUUID()}`, trigger: "dashboard", rerun: true, noCache: false, requestedBy: login });
  }

  /** The dashboard's Cancel; null when the build had already ended. */
  async cancel(id: string, login: string): Promise<BuildRecord | null> {
    const build = await this.deps.store.cancelBuild(id);
    if (!build) return null;
    if (build.state === "running") this.deps.cancelRunning(id, cancelledError(`@${login} cancelled this build from the dashboard.`, { title: "Build cancelled" }));
    else setImmediate(() => void this.concludeCancelled([build], `@${login} cancelled this build from the dashboard before it started.`));
    return build;
  }

  private async afterSubmit(build: BuildRecord, supersededQueued: BuildRecord[]): Promise<void> {
    await this.deps.opener.ensure(build).catch((err) => this.deps.log.warn({ err, buildId: build.id }, "could not open the check run yet; the sweep will retry"));
    await this.concludeCancelled(supersededQueued, null, build);
  }

  /** Builds that never started still owe their check run a conclusion. */
  private async concludeCancelled(builds: BuildRecord[], reason: string | null, newer?: BuildRecord): Promise<void> {
    for (const old of builds) {
      try {
        await concludeRun(old, { outcome: cancelledOutcome(newer ?? null, reason), checkRunId: old.checkRunId, tail: [], retry: false }, this.deps);
      } catch (err) {
        this.deps.log.warn({ err, buildId: old.id }, "could not conclude a cancelled build");
      }
    }
  }
}
