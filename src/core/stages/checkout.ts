import { commitSubject } from "../commit-subject.ts";
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
    // A PR, /rebuild or /deploy carried no commit message: the list shows the one the checkout read.
    const subject = ctx.build.request.commitMessage ? null : commitSubject(ctx.checkout.subject);
    if (subject) await ctx.deps.store.setCommitMessage(ctx.build.id, subject).catch((err: unknown) => ctx.deps.log.warn({ err, buildId: ctx.build.id }, "could not store a build's commit message"));
  },
};
