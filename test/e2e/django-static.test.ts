import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ensureBaseImages, type BaseImages } from "../helpers/base-images.ts";
import { startPythonIndex, type PythonIndex } from "../helpers/package-index.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { firstBody, runPushedImage } from "../helpers/run-image.ts";
import { cleanupAll } from "../helpers/cleanup.ts";

const FIXTURE = new URL("../fixtures/e2e/python-django-static/", import.meta.url).pathname;

let base: BaseImages;
let index: PythonIndex;
let h: Harness;

before(async () => {
  base = await ensureBaseImages();
  // PyPI is out of reach here: the local index serves Debian's Django, whitenoise and gunicorn.
  index = await startPythonIndex(["django", "whitenoise", "gunicorn"]);
  h = await startHarness({}, { MICROSHIP_BUILDER: "host", MICROSHIP_BASE_IMAGE_MIRROR: base.mirror, MICROSHIP_BUILD_TIMEOUT: "600" });
});

after(async () => {
  await cleanupAll(() => h?.stop(), () => index?.stop(), () => base?.stop());
});

function files(dir: string, root = dir): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) Object.assign(out, files(path, root));
    else out[relative(root, path)] = readFileSync(path, "utf8");
  }
  return out;
}

test("a Django app with whitenoise and STATIC_ROOT: collectstatic at build, its page and a hashed static file served, no build SECRET_KEY in the image", { timeout: 600_000 }, async () => {
  const repo = files(FIXTURE);
  repo[".github/microship.yml"] = `build_args:\n  PIP_INDEX_URL: "${index.url}"\n  PIP_TRUSTED_HOST: "${index.trustedHost}"\n`;
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "django", files: repo });
  await h.send("push", h.pushPayload({ sha, branch: "django" }));
  const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.status === "completed"), 540_000, "the build");
  const summary = run.output.summary ?? "";
  assert.equal(run.conclusion, "success", `${summary}\n${run.output.text?.slice(-4000)}`);
  assert.match(summary, /collectstatic --noinput` runs at build \(STATIC_ROOT is set in notes\/settings\.py\)/);
  assert.match(summary, /`python manage\.py migrate --noinput` will run before each deploy/);
  assert.match(run.output.text ?? "", /static files? copied to '\/app\/staticfiles'/);

  const { port, container } = await runPushedImage(h.app, `${OWNER}/${REPO}`, summary);
  try {
    const body = await firstBody(port, 60_000);
    const css = /css at (\/static\/notes\/site\.[0-9a-f]{12}\.css); SECRET_KEY not in the environment\n$/.exec(body);
    assert.ok(css, `${body}\n${container.output()}`);
    const r = await fetch(`http://127.0.0.1:${port}${css[1]}`);
    assert.equal(r.status, 200, container.output());
    assert.match(await r.text(), /font-family: serif/);
  } finally {
    await container.stop();
  }
});
