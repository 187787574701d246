import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBaseImages, CACHE, type BaseImages } from "../helpers/base-images.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { startHypemanFake, type HypemanFake } from "../helpers/hypeman-fake/hypeman-fake.ts";
import { HostBuilder } from "../../src/builder/host/host-builder.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../src/registry/embedded-registry.ts";
import { registryDigest, uniqueId } from "../helpers/contract-probes.ts";
import { runImageOutput } from "../helpers/run-image-output.ts";
import { quietLog } from "../helpers/pipeline-doubles.ts";
import { cleanupAll } from "../helpers/cleanup.ts";

// The hypeman path end to end: signed webhook → microship → the official SDK → the Hypeman fake,
// which builds for real and pushes to the registry microship is configured with.
let base: BaseImages;
let registry: EmbeddedRegistry;
let fake: HypemanFake;
let h: Harness;
let dir: string;

before(async () => {
  base = await ensureBaseImages();
  dir = await mkdtemp(join(tmpdir(), "ms-hypeman-e2e-"));
  registry = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
  fake = await startHypemanFake({ builder: new HostBuilder({ dir: join(CACHE, "host-builder") }), registry: registry.address, registryAuth: registry.auth, heartbeatMs: 500 });
  h = await startHarness({ registryCredentials: registry.credentials }, {
    MICROSHIP_BUILDER: "hypeman", HYPEMAN_BASE_URL: fake.url, HYPEMAN_API_KEY: fake.token(),
    MICROSHIP_REGISTRY: registry.address, MICROSHIP_BUILD_TIMEOUT: "300",
  });
}, { timeout: 600_000 });

after(() => cleanupAll(() => h?.stop(), () => fake?.close(), () => registry?.stop(), () => base?.stop(), () => dir && rm(dir, { recursive: true, force: true })));

const app = (run: string) => ({
  Dockerfile: `FROM ${base.mirror}/busybox:latest\nCOPY hello.txt /hello.txt\n${run}\nCMD ["cat", "/hello.txt"]\n`,
  "hello.txt": "hello from hypeman\n",
});
const completed = (sha: string, what: string) =>
  h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.status === "completed"), 300_000, what);

test("a push is built on Hypeman: the check succeeds with the registry's digest, and the image runs", { timeout: 600_000 }, async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "hm-ok", files: app(`RUN echo built-on-hypeman # ${uniqueId()}`) });
  await h.send("push", h.pushPayload({ sha, branch: "hm-ok" }));
  const run = await completed(sha, "the build");
  assert.equal(run.conclusion, "success", `${run.output.summary}\n${run.output.text?.slice(-2000)}`);
  const digest = await registryDigest(registry.address, `${OWNER}/${REPO}`, sha, registry.auth);
  assert.ok(digest);
  assert.equal(await registryDigest(registry.address, `${OWNER}/${REPO}`, "hm-ok", registry.auth), digest);
  assert.ok(run.output.summary?.includes(`${registry.address}/${OWNER}/${REPO}@${digest}`), run.output.summary ?? "");
  assert.match(run.output.summary ?? "", /Hypeman at 127\.0\.0\.1/);
  assert.match(run.output.text ?? "", /built-on-hypeman/);
  assert.equal(await runImageOutput(`${registry.address}/${OWNER}/${REPO}@${digest}`, { auth: registry.auth }), "hello from hypeman\n");
  assert.equal(lastCreateFields().cache_scope, `${OWNER}/${REPO}`);
});

test("a failing step on Hypeman fails the check and names the step", { timeout: 600_000 }, async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "hm-fail", files: app(`RUN echo broken-here && exit 5 # ${uniqueId()}`) });
  await h.send("push", h.pushPayload({ sha, branch: "hm-fail" }));
  const run = await completed(sha, "the failing build");
  assert.equal(run.conclusion, "failure", run.output.summary ?? "");
  assert.equal(run.output.title, "Build step failed", run.output.summary ?? "");
  assert.match(run.output.summary ?? "", /RUN echo broken-here && exit 5/);
  assert.match(run.output.text ?? "", /broken-here/);
});

test("a new push cancels the running Hypeman build", { timeout: 600_000 }, async () => {
  const old = h.fake.commit({ owner: OWNER, repo: REPO, branch: "hm-race", files: app("RUN echo waiting-for-cancel && sleep 600") });
  const before = fake.builds.size;
  await h.send("push", h.pushPayload({ sha: old, branch: "hm-race" }));
  await h.fake.waitFor(() => [...fake.builds.values()].slice(before).find((b) => b.events.some((e) => e.content === "waiting-for-cancel")), 120_000, "the slow step to start");
  const build = [...fake.builds.values()][before]!;
  const fresh = h.fake.commit({ owner: OWNER, repo: REPO, branch: "hm-race", files: app("RUN true") });
  await h.send("push", h.pushPayload({ sha: fresh, branch: "hm-race" }));
  const cancelled = await completed(old, "the old build to stop");
  assert.equal(cancelled.conclusion, "cancelled");
  await h.fake.waitFor(() => (build.status === "cancelled" ? true : undefined), 10_000, "Hypeman to cancel the build");
  assert.equal((await completed(fresh, "the new build")).conclusion, "success");
});

test("a Hypeman event stream that dies mid-build loses neither the log nor the result", { timeout: 600_000 }, async () => {
  fake.faults.dropStreams = { count: 2, afterEvents: 3 };
  // A marker of its own, so the layer cache can't skip the step.
  const marker = uniqueId();
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "hm-drop", files: app(`RUN for i in 1 2 3 4 5; do echo dropped-stream-$i; done # ${marker}`) });
  await h.send("push", h.pushPayload({ sha, branch: "hm-drop" }));
  const run = await completed(sha, "the build");
  assert.equal(run.conclusion, "success", run.output.summary ?? "");
  for (let i = 1; i <= 5; i++) assert.equal((run.output.text ?? "").split("\n").filter((l) => l === `dropped-stream-${i}`).length, 1, `line ${i} once in:\n${run.output.text}`);
  assert.equal(fake.faults.dropStreams.count, 0, "both cuts happened");
});

function lastCreateFields(): Record<string, string> {
  return fake.requests.filter((r) => r.method === "POST" && r.path === "/builds").at(-1)!.fields!;
}
