import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { BuildOutcome, BuildRecord } from "./build.ts";
import { BuildLog, ThrottledUpdater } from "./build-log.ts";
import { startMainRun } from "./check-runs.ts";
import { concludeRun } from "./conclude-run.ts";
import { errorOf } from "./deadline.ts";
import { withSupersede } from "./ending-outcomes.ts";
import { LeaseLostError } from "./errors.ts";
import { outcomeFromError } from "./outcome.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import { runApps } from "./run-apps.ts";
import { STAGES } from "./stages/stage-list.ts";
import { runStage } from "./stages/run-stage.ts";
import type { Stage, StageContext } from "./stages/stage.ts";

/**
 * One build, start to finish: its main run in progress, the stages in order with the log's
 * tail going to the run, then the end through concludeRun. A worker that lost its lease
 * reports nothing: the build belongs to its new owner. `stages` is the stage list; tests may
 * pass a longer one.
 */
export async function runBuild(build: BuildRecord, signal: AbortSignal, deps: PipelineDeps, stages: readonly Stage[] = STAGES): Promise<BuildOutcome> {
  const { store, reporter, log: opLog } = deps;
  const log = new BuildLog(store, build.id, { maxBytes: deps.logMaxBytes, onError: (err) => opLog.error({ err, buildId: build.id }, "the build log could not be stored; the build goes on") });
  const current = { phase: stages[0]?.phase ?? "queue" };
  const main = await startMainRun(build, deps);
  const updater = new ThrottledUpdater(log, deps.progressIntervalMs, () => reporter.progress(main, log.tail(), current.phase));
  updater.start();
  const scratch = await mkdtemp(join(deps.workDir, `build-${build.id.slice(0, 8)}-`));
  const ctx: StageContext = {
    build, deps, log, scratch, signal, current, phases: { queue: (build.startedAt ?? Date.now()) - build.createdAt }, checkout: null, config: null, plans: [], app: null,
  };
  let outcome: BuildOutcome;
  try {
    outcome = await runStages(ctx, stages);
  } catch (err) {
    outcome = outcomeFromError(errorOf(signal, err), { phases: ctx.phases });
    if (outcome.conclusion === "neutral") opLog.error({ err, buildId: build.id }, "build failed on our side");
    log.system(`${outcome.title}: ${outcome.error?.message ?? ""}`);
  } finally {
    await updater.stop();
    await ctx.checkout?.cleanup().catch((err) => opLog.warn({ err }, "checkout cleanup failed"));
    await rm(scratch, { recursive: true, force: true });
  }
  if (signal.reason instanceof LeaseLostError) {
    opLog.warn({ buildId: build.id }, "lease lost mid-build; leaving the report to the build's new owner");
    return outcome;
  }
  if (outcome.conclusion === "cancelled") outcome = await withSupersede(build.id, outcome, store);
  outcome.phases = { ...ctx.phases, ...outcome.phases };
  await log.flush();
  await concludeRun(build, { outcome, checkRunId: main.checkRunId, tail: log.tail(), retry: true }, deps);
  return outcome;
}

/** The `build` stages in order (one may end the build, e.g. a skip), then the `app` stages per app. */
async function runStages(ctx: StageContext, stages: readonly Stage[]): Promise<BuildOutcome> {
  const { build, log } = ctx;
  log.system(`microship build ${build.id} of ${build.request.owner}/${build.request.repo}@${build.request.sha.slice(0, 12)}`);
  if (build.tries > 1) log.system(`Resuming after an interruption (attempt ${build.tries}).`);
  for (const stage of stages.filter((s) => s.scope === "build")) {
    const end = await runStage(stage, ctx);
    if (end?.outcome) return end.outcome;
  }
  return runApps(ctx, stages.filter((s) => s.scope === "app"));
}
