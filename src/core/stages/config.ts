import { emptyOutcome } from "../build.ts";
import { skipReason } from "../filters.ts";
import { need, type Stage } from "./stage.ts";

/** Reads the repo config at the sha; an invalid one fails the build, and its filters may skip it. */
export const configStage: Stage<"plan"> = {
  name: "config",
  // Timed with planning, as the summary always showed it.
  phase: "plan",
  scope: "build",
  async run(ctx) {
    ctx.signal.throwIfAborted();
    const result = await ctx.deps.config.load(ctx.build.request, need(ctx.checkout, "a checkout", "config").dir);
    if (result && !result.ok) throw result.error;
    ctx.config = result?.config ?? null;
    const skip = skipReason(ctx.build.request, ctx.config);
    if (!skip) return;
    ctx.log.system(`Skipped: ${skip}.`);
    return { outcome: { ...emptyOutcome("skipped", "Skipped by config"), skippedReason: skip, phases: ctx.phases } };
  },
};
