import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBaseImages, type BaseImages } from "../helpers/base-images.ts";
import { startPythonIndex, type PythonIndex } from "../helpers/package-index.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { firstBody, runImage } from "../helpers/run-image.ts";
import { freePort } from "../../src/registry/free-port.ts";
import { cleanupAll } from "../helpers/cleanup.ts";
import { basicAuth } from "../../src/registry/registry-client.ts";
import { registryDigest } from "../helpers/contract-probes.ts";

const FIXTURE = new URL("../fixtures/e2e/python-flask/", import.meta.url).pathname;

let base: BaseImages;
let index: PythonIndex;
let h: Harness;

before(async () => {
  base = await ensureBaseImages();
  // PyPI is out of reach here: a local index serves flask and gunicorn, as an internal mirror would.
  index = await startPythonIndex(["flask", "gunicorn"]);
  h = await startHarness({}, { MICROSHIP_BUILDER: "host", MICROSHIP_BASE_IMAGE_MIRROR: base.mirror, MICROSHIP_BUILD_TIMEOUT: "600" });
});

after(async () => {
  await cleanupAll(() => h?.stop(), () => index?.stop(), () => base?.stop());
});

test("a signed push of a Flask app with gunicorn becomes a running image", { timeout: 600_000 }, async () => {
  const files = Object.fromEntries(readdirSync(FIXTURE).map((f) => [f, readFileSync(join(FIXTURE, f), "utf8")]));
  files[".github/microship.yml"] = `build_args:\n  PIP_INDEX_URL: "${index.url}"\n  PIP_TRUSTED_HOST: "${index.trustedHost}"\n`;
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "py", files });
  await h.send("push", h.pushPayload({ sha, branch: "py" }));
  const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.status === "completed"), 540_000, "the build");
  assert.equal(run.conclusion, "success", `${run.output.summary}\n${run.output.text?.slice(-3000)}`);
  assert.deepEqual([...new Set(run.history.map((u) => u.body.status).filter(Boolean))], ["queued", "in_progress", "completed"]);
  const name = `${OWNER}/${REPO}`;
  const tags = (await (await fetch(`http://${h.app.registry}/v2/${name}/tags/list`, { headers: basicAuth(h.app.registryAuth) })).json()) as { tags: string[] };
  assert.deepEqual(tags.tags.sort(), [sha, "py"].sort());
  // Asynchronous: the registry's front answers from this process's event loop.
  const digest = await registryDigest(h.app.registry, name, sha, h.app.registryAuth);
  assert.ok((run.output.summary ?? "").includes(`${h.app.registry}/${name}@${digest}`));
  assert.match(run.output.summary ?? "", /python311/);
  assert.match(run.output.summary ?? "", /gunicorn app:app --bind 0\.0\.0\.0:\$PORT/);

  const port = await freePort();
  const container = await runImage(`${h.app.registry}/${name}@${digest}`, { PORT: String(port) }, h.app.registryAuth);
  try {
    const body = await firstBody(port, 30_000);
    assert.equal(body, "hello from microship e2e on python 3.11\n", container.output());
  } finally {
    await container.stop();
  }
});
