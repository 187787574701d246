import { join } from "node:path";
import type { BuildOutcome } from "./build.ts";
import { emptyOutcome } from "./build.ts";
import { deadline, errorOf } from "./deadline.ts";
import { annotateFromLog } from "./log-annotations.ts";
import { outcomeFromError } from "./outcome.ts";
import type { PlanOutcome } from "./ports.ts";
import { need, type AppState, type Stage, type StageContext } from "./stages/stage.ts";
import { runStage } from "./stages/run-stage.ts";

/**
 * One app through the `app` stages, under its own deadline. A failure becomes the app's
 * outcome (with annotations from the log when it is the user's); a plan that failed throws.
 */
export async function runApp(ctx: StageContext, planned: PlanOutcome, stages: readonly Stage[]): Promise<BuildOutcome> {
  if (!planned.ok) throw planned.error;
  const { plan } = planned;
  const { deps, log, phases } = ctx;
  for (const m of plan.messages) log.system(`${m.level}: ${m.text}`);
  const base: Partial<BuildOutcome> = { runtime: plan.runtime, detection: deps.describePlan?.(plan) ?? null, builder: deps.builder.describe(), messages: plan.messages };
  const timeoutSeconds = buildTimeout(plan.timeoutSeconds, deps.buildTimeoutSeconds, deps.buildTimeoutMaxSeconds, log);
  const guard = deadline(ctx.signal, timeoutSeconds);
  const repoDir = need(ctx.checkout, "a checkout", "app").dir;
  const app: AppState = { plan, repoDir, timeoutSeconds, archive: null, target: null, output: null, found: {} };
  try {
    for (const stage of stages) {
      const end = await runStage(stage, { ...ctx, signal: guard.signal, app });
      if (end?.outcome) return end.outcome;
    }
    return { ...emptyOutcome("success", "Image built and pushed"), ...base, ...app.found, phases };
  } catch (err) {
    const failed = outcomeFromError(errorOf(guard.signal, err), { ...base, phases });
    if (failed.error?.kind === "user") failed.messages = [...failed.messages, ...annotateFromLog(log.tail(), join(repoDir, plan.contextRoot ?? plan.root), plan.contextRoot ?? plan.root)];
    return failed;
  } finally {
    guard.dispose();
  }
}

/**
 * The repository's `timeout:` if it asked, else the server's default. The operator's cap bounds
 * only what a repository asks for: a config could otherwise hold a worker for two hours.
 */
function buildTimeout(asked: number | null, fallback: number, cap: number | undefined, log: StageContext["log"]): number {
  if (asked === null) return fallback;
  if (cap === undefined || asked <= cap) return asked;
  log.system(`timeout: ${asked} s asked in the config; this server allows at most ${cap} s (MICROSHIP_BUILD_TIMEOUT_MAX), so the build has ${cap} s.`);
  return cap;
}
