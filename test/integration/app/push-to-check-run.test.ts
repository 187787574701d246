import { test } from "node:test";
import assert from "node:assert/strict";
import { startHarness, OWNER, REPO } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer } from "../../helpers/pipeline-doubles.ts";

test("a signed push yields one check run: queued, in progress, completed, every request valid against GitHub's OpenAPI", async () => {
  const builder = new ScriptedBuilder(async (_input, log) => {
    log("STEP 1/2: FROM node:24-slim");
    log("STEP 2/2: RUN npm ci");
    return { digest: `sha256:${"f".repeat(64)}` };
  });
  const h = await startHarness({ builder, planner: fixedPlanner(), archiver: emptyArchiver, images: namer });
  try {
    const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "feature", files: { "package.json": "{}", "index.js": "console.log(1)" } });
    const res = await h.send("push", h.pushPayload({ sha }));
    assert.equal(res.status, 200);
    const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.status === "completed"), 20_000, "a completed check run");
    assert.equal(run.name, "microship");
    assert.equal(run.head_sha, sha);
    assert.equal(run.conclusion, "success");
    assert.equal(h.fake.checkRuns(OWNER, REPO).length, 1, "exactly one check run");
    const statuses = run.history.map((u) => u.body.status).filter(Boolean);
    assert.deepEqual([...new Set(statuses)], ["queued", "in_progress", "completed"]);
    assert.match(run.output.summary ?? "", /sha256:f{64}/);
    assert.match(run.output.text ?? "", /STEP 2\/2: RUN npm ci/);
    assert.ok(run.details_url?.startsWith("http://microship.test/builds/"));
    assert.deepEqual(h.fake.unknownCalls(), [], "no call outside the OpenAPI subset");
    assert.deepEqual(h.fake.rejectedCalls(), [], "no request rejected by validation");
    assert.ok(h.fake.calls.some((c) => c.operationId === "git" && c.status === 200), "the commit was fetched over smart HTTP with the token");
    // The log page is behind its capability link, and nowhere else.
    const page = await fetch(run.details_url!.replace("http://microship.test", h.app.url));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /RUN npm ci/);
    const guessed = await fetch(`${h.app.url}/builds/${run.external_id}?token=wrong`);
    assert.equal(guessed.status, 404);
  } finally {
    await h.stop();
  }
});
