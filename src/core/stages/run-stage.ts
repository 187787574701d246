import type { Phase } from "../types.ts";
import type { Stage, StageContext, StageEnd } from "./stage.ts";

/**
 * Runs one stage and books its time, on success or failure, to its phase: into the build's
 * timings (summed when a stage runs once per app) and into the phase metric.
 */
export async function runStage(stage: Stage, ctx: StageContext): Promise<StageEnd | void> {
  ctx.current.phase = stage.phase;
  const t0 = Date.now();
  let end: StageEnd | void = undefined;
  try {
    end = await stage.run(ctx);
    return end;
  } finally {
    const ms = end?.ms ?? Date.now() - t0;
    // A stage's phase is a Phase by construction of the list; a list passed in (tests) may add others.
    const phase = stage.phase as Phase;
    ctx.phases[phase] = (ctx.phases[phase] ?? 0) + ms;
    ctx.deps.metrics.phase(stage.phase, ms);
  }
}
