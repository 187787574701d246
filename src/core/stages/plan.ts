import { need, type Stage } from "./stage.ts";

/** Detects what to build: one plan per app (a multi-app repo has several, each its own check run). */
export const planStage: Stage<"plan"> = {
  name: "plan",
  phase: "plan",
  scope: "build",
  async run(ctx) {
    ctx.plans = await ctx.deps.planner.plan(need(ctx.checkout, "a checkout", "plan").dir, ctx.config);
  },
};
