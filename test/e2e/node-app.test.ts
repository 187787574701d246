import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBaseImages, type BaseImages } from "../helpers/base-images.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { runImage } from "../helpers/run-image.ts";
import { freePort } from "../../src/registry/free-port.ts";

const FIXTURE = new URL("../fixtures/e2e/node-express/", import.meta.url).pathname;
const files = (dir: string) => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));

let base: BaseImages;
let h: Harness;

before(async () => {
  base = await ensureBaseImages();
  h = await startHarness({}, { MICROSHIP_BUILDER: "host", MICROSHIP_BASE_IMAGE_MIRROR: base.mirror, MICROSHIP_BUILD_TIMEOUT: "600" });
});

after(async () => {
  await h?.stop();
  await base?.stop();
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
  const tags = (await (await fetch(`http://${registry}/v2/${name}/tags/list`)).json()) as { tags: string[] };
  assert.deepEqual(tags.tags.sort(), [sha, "feature-E2E"].sort());
  const digest = execFileSync("skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", `docker://${registry}/${name}:${sha}`], { encoding: "utf8" }).trim();
  assert.match(run.output.summary ?? "", new RegExp(`${registry}/${name}@${digest.replace(":", ":")}`));
  assert.match(run.output.summary ?? "", /nodejs24/);
  assert.match(run.output.summary ?? "", /npm \(from package-lock\.json\)/);

  // The image runs and answers on $PORT with the app's text.
  const port = await freePort();
  const container = runImage(`${registry}/${name}@${digest}`, { PORT: String(port) });
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

async function until<T>(fn: () => Promise<T | null>, ms: number, why: () => string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out; container output:\n${why()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
