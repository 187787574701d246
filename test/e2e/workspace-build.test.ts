import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ensureBaseImages, type BaseImages } from "../helpers/base-images.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { firstBody, runPushedImage } from "../helpers/run-image.ts";
import { cleanupAll } from "../helpers/cleanup.ts";
import { corpusAppFiles } from "../helpers/corpus-app-files.ts";

/**
 * A pnpm workspace with turbo, pushed with `root: apps/web`: the archive is the workspace root,
 * pnpm comes from the npm registry through corepack at the version `packageManager` pins, the
 * install is filtered to the app and what it needs, turbo builds @acme/ui before the app, and
 * the image starts `pnpm start` in apps/web. Only the app's and the library's builds together
 * produce the answer.
 */
const APP = new URL("../fixtures/apps/node-workspace-pnpm-turbo/", import.meta.url).pathname;

let base: BaseImages;
let h: Harness;

before(async () => {
  base = await ensureBaseImages();
  h = await startHarness({}, { MICROSHIP_BUILDER: "host", MICROSHIP_BASE_IMAGE_MIRROR: base.mirror, MICROSHIP_BUILD_TIMEOUT: "600" });
});

after(async () => {
  await cleanupAll(() => h?.stop(), () => base?.stop());
});

test("a package of a pnpm workspace builds from the workspace root and answers from its own folder", { timeout: 600_000 }, async () => {
  const files = corpusAppFiles(APP);
  // The stand-in base images are Node 24's only; the version still comes from the root's .nvmrc.
  files[".nvmrc"] = "24\n";
  // Only the npm registry is reachable here; corepack is told to take pnpm from it (see corpus-builds).
  files[".github/microship.yml"] = `root: apps/web\nbuild_args:\n  COREPACK_NPM_REGISTRY: "https://registry.npmjs.org"\n  COREPACK_INTEGRITY_KEYS: "0"\n`;
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "workspace", files });
  assert.equal((await h.send("push", h.pushPayload({ sha, branch: "workspace" }))).status, 200);
  const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.status === "completed"), 540_000, "the workspace build");
  const summary = run.output.summary ?? "";
  assert.equal(run.conclusion, "success", `${summary}\n${run.output.text?.slice(-4000)}`);
  assert.match(summary, /version 24 from \.nvmrc/);
  assert.match(summary, /pnpm install --frozen-lockfile --prod=false --filter web\.\.\./);
  assert.match(summary, /pnpm exec turbo run build --filter=web\.\.\./);

  const { port, container } = await runPushedImage(h.app, `${OWNER}/${REPO}`, summary);
  try {
    assert.equal(await firstBody(port, 60_000), "hello from web, built with @acme/ui\n", container.output());
  } finally {
    await container.stop();
  }
});

