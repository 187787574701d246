import type { BuildOutcome, BuildRecord } from "./build.ts";
import { emptyOutcome } from "./build.ts";
import { duplicateRunOutcome } from "./ending-outcomes.ts";
import type { Builder, LogLine } from "./builder.ts";
import { worstConclusion } from "./outcome.ts";
import type { ChecksReporter, LinkSigner, RunRef } from "./ports.ts";
import { retrying } from "./retry.ts";
import type { Store } from "./store.ts";
import type { PhaseTimings } from "./types.ts";

/**
 * A build's check runs: its main run, and in a multi-app repo one run per app
 * (`microship/<name>`), recorded in the store as they open so that whoever ends the build, even
 * after a crash, concludes the ones still open. The main run concludes with the worst app.
 */

export type RunWithId = RunRef & { checkRunId: number };

interface RunDeps {
  store: Store;
  reporter: ChecksReporter;
  builder: Builder;
  links?: Pick<LinkSigner, "detailsUrl"> | null;
}

interface CompleteDeps {
  store: Store;
  reporter: ChecksReporter;
  /** Null where no log page links are signed (then the run links nowhere). */
  links: LinkSigner | null;
}

/** Puts the main run in progress (the queued one when it exists) and stores its id. */
export async function startMainRun(build: BuildRecord, deps: RunDeps): Promise<RunWithId> {
  const started = await retrying(() => deps.reporter.started({ build, app: null, checkRunId: build.checkRunId }, deps.builder.describe()));
  if (started === build.checkRunId) return { build, app: null, checkRunId: started };
  const checkRunId = await deps.store.setCheckRunId(build.id, started);
  if (checkRunId !== started) {
    await endDuplicateRun(build, started, checkRunId, deps);
    await retrying(() => deps.reporter.started({ build, app: null, checkRunId }, deps.builder.describe()));
  }
  return { build, app: null, checkRunId };
}

/** An opener stored another run of this build first (Store.setCheckRunId): that one carries the build, `duplicate` ends at once. */
export async function endDuplicateRun(build: BuildRecord, duplicate: number, kept: number, deps: Pick<RunDeps, "reporter" | "links">): Promise<void> {
  await deps.reporter.completed({ build, app: null, checkRunId: duplicate }, duplicateRunOutcome(kept), [], deps.links?.detailsUrl(build.id) ?? "");
}

/** Opens an app's run, or takes up the one an interrupted try of this build opened. */
export async function startAppRun(build: BuildRecord, app: string, deps: RunDeps): Promise<RunWithId> {
  const open = await deps.store.openAppCheckRuns(build.id);
  const known = open.find((r) => r.app === app)?.checkRunId ?? null;
  const checkRunId = await deps.reporter.started({ build, app, checkRunId: known }, deps.builder.describe());
  await deps.store.setAppCheckRun(build.id, app, checkRunId);
  return { build, app, checkRunId };
}

export async function completeAppRun(run: RunWithId & { app: string }, outcome: BuildOutcome, tail: LogLine[], deps: CompleteDeps): Promise<void> {
  await deps.reporter.completed(run, outcome, tail, detailsUrl(deps.links, run.build.id));
  await deps.store.markAppCheckRunCompleted(run.build.id, run.app);
}

/** Every app run the store still has open gets the build's outcome. */
export async function concludeOpenAppRuns(build: BuildRecord, outcome: BuildOutcome, deps: CompleteDeps): Promise<void> {
  for (const run of await deps.store.openAppCheckRuns(build.id)) {
    await completeAppRun({ build, app: run.app, checkRunId: run.checkRunId }, outcome, [], deps);
  }
}

/** The main run's outcome in a multi-app repo: the worst app's conclusion, and a line per app. */
export function multiAppOutcome(results: { app: string; outcome: BuildOutcome }[], phases: PhaseTimings): BuildOutcome {
  const conclusion = worstConclusion(results.map((r) => r.outcome.conclusion));
  return {
    ...emptyOutcome(conclusion, `${results.filter((r) => r.outcome.conclusion === "success").length} of ${results.length} apps built`),
    messages: results.map((r) => ({ level: r.outcome.conclusion === "success" ? "info" : "error", text: `${r.app}: ${r.outcome.title}` })),
    apps: results.map((r) => ({ name: r.app, conclusion: r.outcome.conclusion, ...(r.outcome.release !== undefined ? { release: r.outcome.release } : {}) })),
    phases,
  };
}

export function detailsUrl(links: LinkSigner | null, buildId: string): string {
  return links?.detailsUrl(buildId) ?? "";
}
