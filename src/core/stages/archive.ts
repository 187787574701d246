import { join } from "node:path";
import { appOf, type Stage } from "./stage.ts";

/** Packs the app's root, with the plan's Dockerfile and .dockerignore, into the build's scratch dir. */
export const archiveStage: Stage<"archive"> = {
  name: "archive",
  phase: "archive",
  scope: "app",
  async run(ctx) {
    const app = appOf(ctx, "archive");
    const { plan } = app;
    const archive = await ctx.deps.archiver.archive(join(app.repoDir, plan.contextRoot ?? plan.root), plan, join(ctx.scratch, `${plan.app ?? "app"}.tar.gz`));
    ctx.log.system(`Source archive: ${archive.fileCount} files, ${archive.sizeBytes} bytes, sha256 ${archive.sha256}.`);
    app.archive = archive;
    app.found.archive = { sizeBytes: archive.sizeBytes, fileCount: archive.fileCount };
  },
};
