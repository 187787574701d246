import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBaseImages, type BaseImages } from "../helpers/base-images.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { runImage } from "../helpers/run-image.ts";
import { freePort } from "../../src/registry/free-port.ts";
import { cleanupAll } from "../helpers/cleanup.ts";
import { basicAuth } from "../../src/registry/registry-client.ts";
import { registryDigest } from "../helpers/contract-probes.ts";

const FIXTURE = new URL("../fixtures/e2e/node-express/", import.meta.url).pathname;
const files = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));

let base: BaseImages;
let h: Harness;

before(async () => {
  base = await ensureBaseImages();
  h = await startHarness({}, { MICROSHIP_BUILDER: "host", MICROSHIP_BASE_IMAGE_MIRROR: base.mirror, MICROSHIP_BUILD_TIMEOUT: "600" });
});

after(async () => {
  await cleanupAll(() => h?.stop(), () => base?.stop());
});

test("a signed push of an Express app becomes a running image in the registry, reported on the check run", { timeout: 600_000 }, async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "feature/E2E", files: files(FIXTURE) });
  assert.equal((await h.send("push", h.pushPayload({ sha, branch: "feature/E2E" }))).status, 200);
  const seen = new Set<string>();
  const run = await h.fake.waitFor(() => {
    for (const r of h.fake.checkRuns(OWNER, REPO)) seen.add(r.status);
    return h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.status === "completed");
  }, 540_000, "the build to complete");
  assert.equal(run.conclusion, "success", `${run.output.summary}\n${run.output.text?.slice(-3000)}`);
  const statuses = run.history.map((u) => u.body.status).filter(Boolean);
  assert.deepEqual([...new Set(statuses)], ["queued", "in_progress", "completed"]);

  // The image is in the registry under the sha and the sanitised branch tag.
  const registry = h.app.registry;
  const name = `${OWNER}/${REPO}`;
  const tags = (await (await fetch(`http://${registry}/v2/${name}/tags/list`, { headers: basicAuth(h.app.registryAuth) })).json()) as { tags: string[] };
  assert.deepEqual(tags.tags.sort(), [sha, "feature-E2E"].sort());
  // Asynchronous: the registry's front answers from this process's event loop.
  const digest = await registryDigest(registry, name, sha, h.app.registryAuth);
  assert.match(run.output.summary ?? "", new RegExp(`${registry}/${name}@${digest.replace(":", ":")}`));
  assert.match(run.output.summary ?? "", /nodejs24/);
  assert.match(run.output.summary ?? "", /npm \(from package-lock\.json\)/);

  // The image runs and answers on $PORT with the app's text.
  const port = await freePort();
  const container = await runImage(`${registry}/${name}@${digest}`, { PORT: String(port) }, h.app.registryAuth);
  try {
    const body = await until(async () => {
      const r = await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
      return r?.ok ? r.text() : null;
    }, 30_000, () => container.output());
    assert.equal(body, "hello from microship e2e on node 24\n");
  } finally {
    await container.stop();
  }
  assert.ok(!h.opLog().includes("ghs_") && !JSON.stringify(h.fake.checkRuns(OWNER, REPO)).includes("ghs_"), "no installation token leaked");
});

test("a failing build step fails the check, with the failing lines, the step, and an annotation on the file", { timeout: 600_000 }, async () => {
  const app = files(FIXTURE);
  const pkg = JSON.parse(app["package.json"]!);
  pkg.scripts.build = "node scripts/build.js";
  app["package.json"] = JSON.stringify(pkg, null, 2);
  app["scripts/build.js"] = 'console.log("compiling");\nthrow new Error("boom: the bundle is broken");\n';
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "broken", files: app });
  await h.send("push", h.pushPayload({ sha, branch: "broken" }));
  const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.status === "completed"), 540_000, "the failing build");
  assert.equal(run.conclusion, "failure");
  assert.equal(run.output.title, "Build step failed", `${run.output.summary}\n${run.output.text?.slice(-4000)}`);
  assert.match(run.output.text ?? "", /boom: the bundle is broken/);
  assert.match(run.output.summary ?? "", /RUN npm run build/);
  assert.ok(run.annotations.some((a) => a.path === "scripts/build.js" && a.start_line === 2), JSON.stringify(run.annotations));
});

test("a new push mid-build cancels the old build, and none of its processes is left", { timeout: 600_000 }, async () => {
  const slow = files(FIXTURE);
  const pkg = JSON.parse(slow["package.json"]!);
  pkg.scripts.build = "node -e \"setTimeout(() => {}, 123457)\"";
  slow["package.json"] = JSON.stringify(pkg, null, 2);
  const old = h.fake.commit({ owner: OWNER, repo: REPO, branch: "racing", files: slow });
  await h.send("push", h.pushPayload({ sha: old, branch: "racing" }));
  await until(async () => (pgrep("123457") ? true : null), 300_000, () => "the slow build step never started");
  const fresh = h.fake.commit({ owner: OWNER, repo: REPO, branch: "racing", files: files(FIXTURE) });
  await h.send("push", h.pushPayload({ sha: fresh, branch: "racing" }));
  const cancelled = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === old && r.status === "completed"), 60_000, "the old build to stop");
  assert.equal(cancelled.conclusion, "cancelled");
  await until(async () => (pgrep("123457") ? null : true), 10_000, () => "the old build's RUN step is still running");
  const done = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === fresh && r.status === "completed"), 540_000, "the new build");
  assert.equal(done.conclusion, "success");
});

function pgrep(marker: string): boolean {
  try {
    return execFileSync("pgrep", ["-f", marker], { encoding: "utf8" }).trim().length > 0;
  } catch {
    return false;
  }
}

async function until<T>(fn: () => Promise<T | null>, ms: number, why: () => string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out; container output:\n${why()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
