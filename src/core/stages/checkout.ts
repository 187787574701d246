import type { Stage } from "./stage.ts";

/** Fetches exactly the build's sha into a fresh dir; the runner removes it when the build ends. */
export const checkoutStage: Stage<"clone"> = {
  name: "checkout",
  phase: "clone",
  scope: "build",
  async run(ctx) {
    const t0 = Date.now();
    ctx.checkout = await ctx.deps.source.checkout(ctx.build.request, ctx.signal);
    ctx.log.system(`Checked out ${ctx.build.request.sha} in ${Date.now() - t0} ms.`);
  },
};
