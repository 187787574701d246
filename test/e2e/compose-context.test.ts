import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ensureBaseImages, type BaseImages } from "../helpers/base-images.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { firstBody, runPushedImage } from "../helpers/run-image.ts";
import { cleanupAll } from "../helpers/cleanup.ts";

let base: BaseImages;
let h: Harness;

before(async () => {
  base = await ensureBaseImages();
  h = await startHarness({}, { MICROSHIP_BUILDER: "host", MICROSHIP_BASE_IMAGE_MIRROR: base.mirror, MICROSHIP_BUILD_TIMEOUT: "300" });
});

after(async () => {
  await cleanupAll(() => h?.stop(), () => base?.stop());
});

test("a compose file's `context: .` and `dockerfile: web/Dockerfile`: the archive is the whole repository, the Dockerfile its own", { timeout: 300_000 }, async () => {
  const files = {
    "docker-compose.yml": "services:\n  web:\n    build:\n      context: .\n      dockerfile: web/Dockerfile\n  cache:\n    image: redis:7\n",
    // COPY lines that only work from the top: shared/ is outside web/.
    "web/Dockerfile": `FROM ${base.mirror}/busybox:latest\nCOPY shared/greeting.txt /www/index.html\nCOPY web/about.txt /www/about.txt\nCMD ["sh", "-c", "exec httpd -f -p $PORT -h /www"]\n`,
    "web/about.txt": "built from web/Dockerfile\n",
    "shared/greeting.txt": "hello from shared/, outside the Dockerfile's folder\n",
  };
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "compose", files });
  await h.send("push", h.pushPayload({ sha, branch: "compose" }));
  const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.status === "completed"), 240_000, "the build");
  const summary = run.output.summary ?? "";
  assert.equal(run.conclusion, "success", `${summary}\n${run.output.text?.slice(-4000)}`);
  assert.match(summary, /Build context:\*\* `\.` \(the repository's top\)/);
  assert.match(summary, /Read from service `web` of docker-compose\.yml/);

  const { port, container } = await runPushedImage(h.app, `${OWNER}/${REPO}`, summary);
  try {
    assert.equal(await firstBody(port, 30_000), "hello from shared/, outside the Dockerfile's folder\n", container.output());
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/about.txt`)).text(), "built from web/Dockerfile\n");
  } finally {
    await container.stop();
  }
});
