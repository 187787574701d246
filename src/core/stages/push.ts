import { appOf, need, type Stage } from "./stage.ts";

/**
 * The builder pushes as the last step of its build (with BuildInput.registryAuth), so there is
 * nothing left to send here: this stage records what was pushed, timed as the builder measured it.
 */
export const pushStage: Stage<"push"> = {
  name: "push",
  phase: "push",
  scope: "app",
  async run(ctx) {
    const app = appOf(ctx, "push");
    const output = need(app.output, "a build's output", "push");
    const target = need(app.target, "an image target", "push");
    app.found.image = { ref: output.imageRef, digest: output.digest, name: target.imageName, tags: output.tags, sizeBytes: output.sizeBytes };
    return { ms: output.timings.pushMs };
  },
};
