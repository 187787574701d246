import type { BuildOutcome } from "./build.ts";
import { completeAppRun, multiAppOutcome, startAppRun } from "./check-runs.ts";
import { outcomeFromError } from "./outcome.ts";
import { runApp } from "./run-app.ts";
import type { Stage, StageContext } from "./stages/stage.ts";

/**
 * The `app` stages for each planned app. One app reports on the main run alone; several each
 * get their own run, concluded as the app ends, and the main run takes the worst of them.
 */
export async function runApps(ctx: StageContext, stages: readonly Stage[]): Promise<BuildOutcome> {
  if (ctx.plans.length === 1) return runApp(ctx, ctx.plans[0]!, stages);
  const results: { app: string; outcome: BuildOutcome }[] = [];
  for (const planned of ctx.plans) {
    const app = planned.ok ? planned.plan.app ?? "app" : planned.app ?? "app";
    const run = await startAppRun(ctx.build, app, ctx.deps);
    ctx.log.system(`--- app ${app} ---`);
    const outcome = await runApp(ctx, planned, stages).catch((err) => outcomeFromError(err, { phases: ctx.phases }));
    await completeAppRun({ ...run, app }, outcome, ctx.log.tail(), ctx.deps);
    results.push({ app, outcome });
  }
  return multiAppOutcome(results, ctx.phases);
}
