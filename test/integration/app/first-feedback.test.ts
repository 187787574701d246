import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, OWNER, REPO, type Harness } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner } from "../../helpers/pipeline-doubles.ts";
import type { BuildRequest } from "../../../src/core/types.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

// Five builds of one installation log without pause, so their live tails alone would keep the
// installation's writes (one a second, as GitHub asks) busy for ever.
let h: Harness;

before(async () => {
  const builder = new ScriptedBuilder(async (input, log) => {
    if (!input.tags[0]!.startsWith("busy")) return { digest: `sha256:${"b".repeat(64)}` };
    for (let i = 0; !input.signal.aborted; i++) {
      log(`step ${i}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { digest: `sha256:${"b".repeat(64)}` };
  });
  const images = { target: (req: BuildRequest) => ({ imageName: `registry.test/${req.owner}/${req.repo}`, tags: [`${req.branch}-${req.sha}`] }) };
  h = await startHarness({ builder, planner: fixedPlanner(), archiver: emptyArchiver, images }, { MICROSHIP_CONCURRENCY: "6" });
});

after(async () => {
  await cleanupAll(
    () => assert.deepEqual(h.fake.rejectedCalls().map((c) => `${c.method} ${c.path}`), [], "no request rejected by validation"),
    () => h.stop(),
  );
});

const writes = () => h.fake.calls.filter((c) => c.method !== "GET" && c.operationId !== "git" && c.auth === "installation");

test("a new push's queued check run goes ahead of the live log tails of the builds already running", async () => {
  for (const branch of ["busy-1", "busy-2", "busy-3", "busy-4", "busy-5"]) {
    const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch, files: { "a.txt": branch } });
    await h.send("push", h.pushPayload({ sha, branch }));
  }
  await h.fake.waitFor(() => writes().filter((c) => /^Building/.test((c.body as any)?.output?.title ?? "")).length >= 5, 30_000, "live tails of the busy builds");
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "fresh", files: { "a.txt": "fresh" } });
  const sentAt = writes().length;
  await h.send("push", h.pushPayload({ sha, branch: "fresh" }));
  await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha), 30_000, "the fresh push's check run");
  const before = writes().slice(sentAt);
  const create = before.findIndex((c) => c.operationId === "checks/create");
  assert.ok(create >= 0);
  // Five tails were waiting. Ahead of the check run may go the write already handed to Octokit
  // when the push arrived, and one more if that write finished while the push was being stored.
  assert.ok(create <= 2, `writes sent before the queued check run: ${before.slice(0, create).map((c) => (c.body as any)?.output?.title).join(", ")}`);
});
