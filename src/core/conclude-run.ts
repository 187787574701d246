import type { BuildOutcome, BuildRecord } from "./build.ts";
import type { LogLine } from "./builder.ts";
import { concludeOpenAppRuns, detailsUrl } from "./check-runs.ts";
import type { ChecksReporter, LinkSigner, Metrics } from "./ports.ts";
import { retrying } from "./retry.ts";
import type { Store } from "./store.ts";

export interface ConcludeDeps {
  store: Store;
  reporter: ChecksReporter;
  links: LinkSigner | null;
  metrics: Metrics;
}

export interface RunEnding {
  outcome: BuildOutcome;
  /** The build's main run; null when it never got one (then only the store hears of the end). */
  checkRunId: number | null;
  /** The end of the build's log, for the main run's text. */
  tail: LogLine[];
  /** Retry GitHub: a worker that gives up loses the result, while a sweep comes back on its own. */
  retry: boolean;
  /** The store ended the build already (its run was opened after the cancel): only the run is owed. */
  storeEnded?: boolean;
}

/**
 * The one way a build ends, whoever ends it: the stage runner (success, failure, cancel or
 * supersede mid-build), recovery of builds abandoned after crashes, the build service (builds
 * cancelled while queued) and the check-run opener (a run created after its build was cancelled).
 * App runs still open and then the main run are concluded with the outcome; then the store ends
 * the build, and the finished-build metric counts it once, when the store's end is the first.
 */
export async function concludeRun(build: BuildRecord, ending: RunEnding, deps: ConcludeDeps): Promise<void> {
  const { outcome, checkRunId } = ending;
  await concludeOpenAppRuns(build, outcome, deps);
  if (checkRunId !== null) {
    const complete = () => deps.reporter.completed({ build, app: null, checkRunId }, outcome, ending.tail, detailsUrl(deps.links, build.id));
    await (ending.retry ? retrying(complete) : complete());
  }
  if (ending.storeEnded) return;
  if (await deps.store.complete(build.id, outcome.conclusion, outcome)) deps.metrics.buildFinished(outcome.conclusion);
}
