import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, OWNER, REPO, type Harness } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer, waitForAbort } from "../../helpers/pipeline-doubles.ts";
import { loadExample, withRepo, sendWebhook } from "../../fakes/webhooks.ts";
import type { BuildInput } from "../../../src/core/builder.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

let h: Harness;
const inputs: BuildInput[] = [];
// Builds of shas listed here hang until cancelled; everything else succeeds at once.
const hang = new Set<string>();

before(async () => {
  const builder = new ScriptedBuilder(async (input, log) => {
    inputs.push(input);
    log(`building ${input.tags[0]}`);
    if (hang.has(input.tags[0]!)) return waitForAbort(input.signal);
    return { digest: `sha256:${"a".repeat(64)}` };
  });
  h = await startHarness({ builder, planner: fixedPlanner(), archiver: emptyArchiver, images: namer });
  h.fake.setPermission(OWNER, REPO, "maintainer", "maintain");
  h.fake.setPermission(OWNER, REPO, "drive-by", "read");
});

after(async () => {
  await cleanupAll(
    () => assert.deepEqual(h.fake.unknownCalls(), [], "no call outside the OpenAPI subset"),
    () => assert.deepEqual(h.fake.rejectedCalls().map((c) => `${c.method} ${c.path}`), [], "no request rejected by validation"),
    () => assert.ok(!h.opLog().includes("ghs_"), "no installation token in the operator log"),
    () => h.stop(),
  );
});

const runsFor = (sha: string) => h.fake.checkRuns(OWNER, REPO).filter((r) => r.head_sha === sha);
const completed = (sha: string, n = 1) =>
  h.fake.waitFor(() => {
    const done = runsFor(sha).filter((r) => r.status === "completed");
    return done.length >= n && done;
  }, 20_000, `${n} completed run(s) for ${sha.slice(0, 8)}`);

test("a redelivered webhook builds once", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "redeliver", files: { "a.txt": "1" } });
  const payload = h.pushPayload({ sha, branch: "redeliver" });
  const first = await h.send("push", payload);
  const again = await h.send("push", payload, first.deliveryId);
  assert.equal(again.status, 200);
  await completed(sha);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(runsFor(sha).length, 1);
});

test("push and pull_request.synchronize of one sha share one build and one check run", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "shared", files: { "a.txt": "2" } });
  await Promise.all([h.send("push", h.pushPayload({ sha, branch: "shared" })), h.send("pull_request", h.prPayload({ action: "synchronize", number: 5, sha, headRef: "shared" }))]);
  await completed(sha);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(runsFor(sha).length, 1);
  assert.equal(inputs.filter((i) => i.tags[0] === sha).length, 1);
});

test("a fork PR is fetched from pull/N/head, builds without secrets, in its own cache scope", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "refs/forks/a-forker/patch", files: { "a.txt": "fork" } });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 31, headSha: sha, headRef: "patch", headRepo: `a-forker/${REPO}` });
  await h.send("pull_request", h.prPayload({ action: "opened", number: 31, sha, headRef: "patch", fork: true }));
  const [run] = await completed(sha);
  assert.equal(run!.conclusion, "success");
  const input = inputs.find((i) => i.tags[0] === sha)!;
  assert.equal(input.cacheScope, `${OWNER}/${REPO}/pr-31`);
  assert.deepEqual(input.secrets, []);
  assert.match(run!.output.summary ?? "", /from a fork/);
});

test("/rebuild from someone without write access gets a polite reply and builds nothing", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "pr-40", files: { "a.txt": "40" } });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 40, headSha: sha, headRef: "pr-40" });
  const before = inputs.length;
  const res = await h.send("issue_comment", h.commentPayload({ number: 40, body: "/rebuild", user: "drive-by" }));
  assert.equal(res.status, 200);
  const reply = await h.fake.waitFor(() => h.fake.state.comments.find((c) => c.issue_number === 40), 10_000, "a reply");
  assert.match(reply.body, /needs write access/);
  assert.equal(inputs.length, before);
  assert.equal(runsFor(sha).length, 0);
});

test("/rebuild --no-cache from a maintainer rebuilds the PR head, acknowledged with a reaction; bots are ignored", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "pr-41", files: { "a.txt": "41" } });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 41, headSha: sha, headRef: "pr-41" });
  await h.send("issue_comment", h.commentPayload({ number: 41, body: "/rebuild", user: "dependabot[bot]", bot: true, commentId: 1 }));
  await h.send("issue_comment", h.commentPayload({ number: 41, body: "Looks flaky.\n/rebuild --no-cache", user: "maintainer", commentId: 4141 }));
  await completed(sha);
  const input = inputs.find((i) => i.tags[0] === sha)!;
  assert.equal(input.noCache, true);
  assert.ok(h.fake.state.reactions.some((r) => r.comment_id === 4141 && r.content === "rocket"));
  assert.ok(!h.fake.state.reactions.some((r) => r.comment_id === 1), "the bot's comment was ignored");
  assert.ok(!h.fake.calls.some((c) => c.path.endsWith("/collaborators/dependabot[bot]/permission")));
});

test("re-run from the Checks tab and the Rebuild button build the same sha again on a new check run", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "rerun", files: { "a.txt": "r" } });
  await h.send("push", h.pushPayload({ sha, branch: "rerun" }));
  const [first] = await completed(sha);
  assert.deepEqual(first!.actions.map((a) => a.identifier), ["rebuild", "rebuild-no-cache"]);
  const rerun = withRepo(loadExample("check_run", (e) => e.action === "rerequested"), { owner: OWNER, repo: REPO, installationId: 77 });
  rerun.check_run.external_id = first!.external_id;
  rerun.check_run.head_sha = sha;
  await h.send("check_run", rerun);
  await completed(sha, 2);
  const button = withRepo(loadExample("check_run", (e) => e.action === "requested_action"), { owner: OWNER, repo: REPO, installationId: 77 });
  button.check_run.external_id = first!.external_id;
  button.check_run.head_sha = sha;
  button.requested_action = { identifier: "rebuild-no-cache" };
  await h.send("check_run", button);
  await completed(sha, 3);
  assert.equal(inputs.filter((i) => i.tags[0] === sha).at(-1)?.noCache, true);
});

test("a new push cancels the running build of its branch; its check run links the newer build", async () => {
  const old = h.fake.commit({ owner: OWNER, repo: REPO, branch: "busy", files: { "a.txt": "old" } });
  hang.add(old);
  await h.send("push", h.pushPayload({ sha: old, branch: "busy" }));
  await h.fake.waitFor(() => runsFor(old).find((r) => r.status === "in_progress"), 20_000, "the old build to start");
  const queuedOld = h.fake.commit({ owner: OWNER, repo: REPO, branch: "busy", files: { "a.txt": "middle" } });
  const fresh = h.fake.commit({ owner: OWNER, repo: REPO, branch: "busy", files: { "a.txt": "new" } });
  await h.send("push", h.pushPayload({ sha: queuedOld, branch: "busy" }));
  await h.send("push", h.pushPayload({ sha: fresh, branch: "busy" }));
  const [cancelled] = await completed(old);
  assert.equal(cancelled!.conclusion, "cancelled");
  assert.match(cancelled!.output.summary ?? "", new RegExp(`A newer commit replaced this one: build of \`${fresh.slice(0, 12)}`));
  await completed(fresh);
  // The middle push never ran: it was superseded while queued.
  assert.equal(inputs.filter((i) => i.tags[0] === queuedOld).length, 0);
  for (const r of runsFor(queuedOld)) assert.equal(r.status === "completed" ? r.conclusion : "cancelled", "cancelled");
});

test("a bad signature gets 400 and builds nothing", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "forged", files: { "a.txt": "x" } });
  const res = await sendWebhook(`${h.app.url}/api/github/webhooks`, { event: "push", payload: h.pushPayload({ sha, branch: "forged" }), secret: "not-the-secret" });
  assert.equal(res.status, 400);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(runsFor(sha).length, 0);
});

test("a 25 MB payload is accepted and built once", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "huge", files: { "a.txt": "h" } });
  const payload = h.pushPayload({ sha, branch: "huge" });
  payload.head_commit = { ...(payload.head_commit ?? {}), message: "x".repeat(25 * 1024 * 1024 - 20_000) };
  const res = await h.send("push", payload);
  assert.equal(res.status, 200);
  await completed(sha);
});

test("tag pushes and branch deletions build nothing", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "tagged", files: { "a.txt": "t" } });
  const tag = h.pushPayload({ sha });
  tag.ref = "refs/tags/v1.0.0";
  const del = h.pushPayload({ sha, branch: "gone" });
  del.deleted = true;
  del.after = "0".repeat(40);
  assert.equal((await h.send("push", tag)).status, 200);
  assert.equal((await h.send("push", del)).status, 200);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(runsFor(sha).length, 0);
});

test("a broken repo config fails the check, naming the file and the line", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "badcfg", files: { ".github/microship.yml": "runtime: node\nbranches: main\n" } });
  await h.send("push", h.pushPayload({ sha, branch: "badcfg" }));
  const [run] = await completed(sha);
  assert.equal(run!.conclusion, "failure");
  assert.equal(run!.output.title, "Config schema error");
  assert.match(run!.output.summary ?? "", /\.github\/microship\.yml:2:11/);
  assert.deepEqual(run!.annotations.map((a) => [a.path, a.start_line]), [[".github/microship.yml", 2]]);
});

test("health, readiness and metrics answer", async () => {
  assert.equal((await fetch(`${h.app.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${h.app.url}/readyz`)).status, 200);
  const metrics = await (await fetch(`${h.app.url}/metrics`)).text();
  assert.match(metrics, /microship_webhook_deliveries_total\{event="push",outcome="created"\} \d+/);
  assert.match(metrics, /microship_builds_completed_total\{conclusion="success"\} \d+/);
  assert.match(metrics, /microship_queue_depth \d+/);
  assert.match(metrics, /microship_phase_duration_seconds_bucket\{le="0.1",phase="clone"\}/);
});
