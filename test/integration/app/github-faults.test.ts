import { test } from "node:test";
import assert from "node:assert/strict";
import { startHarness, OWNER, REPO } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer } from "../../helpers/pipeline-doubles.ts";

const parts = () => ({
  builder: new ScriptedBuilder(async () => ({ digest: `sha256:${"b".repeat(64)}` })),
  planner: fixedPlanner(), archiver: emptyArchiver, images: namer,
});

test("GitHub answering 500 and then 200 is survived: the check run still completes", async () => {
  const h = await startHarness(parts());
  try {
    h.fake.failNext({ operationId: "checks/create", status: 500, times: 1 });
    h.fake.failNext({ operationId: "checks/update", status: 502, times: 2 });
    const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "flaky", files: { a: "1" } });
    await h.send("push", h.pushPayload({ sha, branch: "flaky" }));
    const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.status === "completed"), 40_000, "completion despite 5xx");
    assert.equal(run.conclusion, "success");
    assert.equal(h.fake.checkRuns(OWNER, REPO).length, 1, "a retried create made one run, not two");
    assert.ok(h.fake.calls.filter((c) => c.status >= 500).length === 3);
  } finally {
    await h.stop();
  }
});

test("a secondary rate limit (403 with retry-after) is waited out, not dropped", async () => {
  const h = await startHarness(parts());
  try {
    h.fake.secondaryRateLimit("checks/create", 1);
    h.fake.secondaryRateLimit("checks/update", 1);
    const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "limited", files: { a: "1" } });
    await h.send("push", h.pushPayload({ sha, branch: "limited" }));
    const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.status === "completed"), 40_000, "completion despite rate limits");
    assert.equal(run.conclusion, "success");
    assert.equal(h.fake.calls.filter((c) => c.status === 403).length, 2);
  } finally {
    await h.stop();
  }
});
