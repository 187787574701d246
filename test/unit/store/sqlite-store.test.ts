import { test } from "node:test";
import assert from "node:assert/strict";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../../src/queue/sqlite/sqlite-queue.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";
import { emptyOutcome } from "../../../src/core/build.ts";

function open() {
  const sql = new SqliteDatabase(":memory:");
  return { store: new SqliteStore(sql), queue: new SqliteQueue(sql) };
}

const pr = (n: number, fork = false) => ({ number: n, fork, headRepo: fork ? "fork/app" : "octo/app", headRef: "feature", baseRef: "main" });

test("a redelivered webhook does not build twice", async () => {
  const { store } = open();
  const req = buildRequest();
  assert.equal((await store.submit(req)).kind, "created");
  assert.equal((await store.submit(req)).kind, "duplicate-delivery");
  assert.equal((await store.countByState()).queued, 1);
});

test("push and pull_request.synchronize of one sha share one build, and the PR is attached", async () => {
  const { store } = open();
  const push = await store.submit(buildRequest({ sha: sha("b") }));
  const sync = await store.submit(buildRequest({ sha: sha("b"), trigger: "pull_request", pr: pr(7) }));
  assert.equal(push.kind, "created");
  assert.equal(sync.kind, "existing");
  assert.ok(push.kind === "created" && sync.kind === "existing");
  assert.equal(sync.build.id, push.build.id);
  assert.equal((await store.getBuild(push.build.id))?.request.pr?.number, 7);
  assert.deepEqual((await store.prForSha("octo", "app", sha("b")))?.number, 7);
});

test("an explicit re-run builds the same sha again, as a new attempt", async () => {
  const { store } = open();
  const first = await store.submit(buildRequest());
  const again = await store.submit(buildRequest({ rerun: true, trigger: "check_run_rerequested" }));
  assert.ok(first.kind === "created" && again.kind === "created");
  assert.notEqual(again.build.id, first.build.id);
  assert.equal(again.build.attempt, 1);
});

test("a new push supersedes the queued build of the same branch, and asks a running one to stop", async () => {
  const { store, queue } = open();
  const running = await store.submit(buildRequest({ sha: sha("1") }));
  assert.ok(running.kind === "created");
  const claimed = await queue.claim({ workerId: "w", leaseMs: 10_000, maxRunning: 5 });
  assert.equal(claimed?.id, running.build.id);
  const queued = await store.submit(buildRequest({ sha: sha("2") }));
  assert.ok(queued.kind === "created");
  assert.deepEqual(queued.supersededRunning.map((b) => b.id), [running.build.id]);
  assert.equal((await queue.heartbeat(running.build.id, "w", 10_000)).cancelRequested, true);

  const newest = await store.submit(buildRequest({ sha: sha("3") }));
  assert.ok(newest.kind === "created");
  assert.deepEqual(newest.supersededQueued.map((b) => b.id), [queued.build.id]);
  const old = await store.getBuild(queued.build.id);
  assert.equal(old?.state, "completed");
  assert.equal(old?.conclusion, "cancelled");
  assert.equal(old?.supersededBy, newest.build.id);
});

test("default-branch builds are never superseded; they queue and run one at a time", async () => {
  const { store, queue } = open();
  const a = await store.submit(buildRequest({ sha: sha("1"), branch: "main" }));
  const b = await store.submit(buildRequest({ sha: sha("2"), branch: "main" }));
  assert.ok(a.kind === "created" && b.kind === "created");
  assert.equal(b.supersededQueued.length + b.supersededRunning.length, 0);
  assert.equal((await queue.claim({ workerId: "w", leaseMs: 10_000, maxRunning: 5 }))?.id, a.build.id);
  assert.equal(await queue.claim({ workerId: "w", leaseMs: 10_000, maxRunning: 5 }), null, "the second main build waits for the first");
  await store.complete(a.build.id, "success", emptyOutcome("success", "ok"));
  assert.equal((await queue.claim({ workerId: "w", leaseMs: 10_000, maxRunning: 5 }))?.id, b.build.id);
});

test("a fork PR's branch name never supersedes the base repo's branch builds", async () => {
  const { store } = open();
  const own = await store.submit(buildRequest({ sha: sha("1"), branch: "feature" }));
  const fork = await store.submit(buildRequest({ sha: sha("2"), branch: null, trigger: "pull_request", pr: pr(9, true), fetchRef: "refs/pull/9/head" }));
  assert.ok(own.kind === "created" && fork.kind === "created");
  assert.equal(fork.supersededQueued.length, 0);
  assert.equal((await store.getBuild(own.build.id))?.state, "queued");
});

test("claims respect the concurrency limit and are fair across installations", async () => {
  const { store, queue } = open();
  for (let i = 0; i < 3; i++) await store.submit(buildRequest({ sha: sha(String(i)), branch: `b${i}`, installationId: 1 }));
  await store.submit(buildRequest({ sha: sha("9"), branch: "x", installationId: 2, owner: "other" }));
  const first = await queue.claim({ workerId: "w", leaseMs: 10_000, maxRunning: 2 });
  const second = await queue.claim({ workerId: "w", leaseMs: 10_000, maxRunning: 2 });
  assert.equal(first?.request.installationId, 1);
  assert.equal(second?.request.installationId, 2, "the idle installation goes before the busy one's older jobs");
  assert.equal(await queue.claim({ workerId: "w", leaseMs: 10_000, maxRunning: 2 }), null);
  assert.equal(await queue.depth(), 2);
});

test("a lapsed lease is requeued once, then abandoned so its check run can be concluded", async () => {
  const { store, queue } = open();
  const s = await store.submit(buildRequest());
  assert.ok(s.kind === "created");
  const t0 = 1_000_000;
  await queue.claim({ workerId: "dead", leaseMs: 1_000, maxRunning: 1, now: t0 });
  let r = await queue.recoverExpired(2, t0 + 5_000);
  assert.deepEqual(r.requeued.map((b) => b.id), [s.build.id]);
  const again = await queue.claim({ workerId: "w2", leaseMs: 1_000, maxRunning: 1, now: t0 + 6_000 });
  assert.equal(again?.tries, 2);
  assert.equal((await queue.heartbeat(s.build.id, "dead", 1_000, t0 + 6_000)).held, false, "the dead worker's lease is gone");
  r = await queue.recoverExpired(2, t0 + 20_000);
  assert.deepEqual(r.abandoned.map((b) => b.id), [s.build.id]);
});

test("logs are stored in order and read back whole", async () => {
  const { store } = open();
  await store.appendLog("b1", [{ ts: 1, stream: "stdout", text: "one" }]);
  await store.appendLog("b1", [{ ts: 2, stream: "stderr", text: "two" }, { ts: 3, stream: "system", text: "three" }]);
  assert.deepEqual((await store.readLog("b1")).map((l) => l.text), ["one", "two", "three"]);
});

test("a log is read in pages of whole chunks, about maxBytes each, in order, and ends with null", async () => {
  const { store } = open();
  for (let i = 0; i < 10; i++) await store.appendLog("b1", [{ ts: i, stream: "stdout", text: `${i}`.padEnd(1000, ".") }]);
  const seen: string[] = [];
  let pages = 0;
  for (let page = await store.readLogPage("b1", -1, 2_500); page; page = await store.readLogPage("b1", page.lastSeq, 2_500)) {
    pages++;
    seen.push(...page.lines.map((l) => l.text[0]!));
  }
  assert.deepEqual(seen, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  assert.equal(pages, 5, "two chunks of about 1 KB a page");
  assert.equal((await store.readLogPage("b1", -1, 1))?.lines.length, 1, "a chunk bigger than the page still comes, alone");
  assert.equal(await store.readLogPage("nope", -1, 1_000), null);
});

test("logTail finds where the last maxBytes of a log begin", async () => {
  const { store } = open();
  for (let i = 0; i < 10; i++) await store.appendLog("b1", [{ ts: i, stream: "stdout", text: "x".repeat(1000) }]);
  const all = await store.logTail("b1", 1e9);
  assert.equal(all.afterSeq, -1);
  assert.equal(all.skippedBytes, 0);
  const tail = await store.logTail("b1", 3_500);
  assert.equal(tail.totalBytes, all.totalBytes);
  assert.equal(tail.afterSeq, 6, "chunks 7, 8 and 9 fit");
  const shown: number[] = [];
  for (let page = await store.readLogPage("b1", tail.afterSeq, 1e9); page; page = await store.readLogPage("b1", page.lastSeq, 1e9)) shown.push(...page.lines.map((l) => l.ts));
  assert.deepEqual(shown, [7, 8, 9]);
  assert.equal((await store.logTail("b1", 1)).afterSeq, 8, "the newest chunk is always shown");
});

test("deleteLogsBefore deletes only finished builds' logs older than the time, at most `limit` chunks a call", async () => {
  const { store } = open();
  const old = await store.submit(buildRequest({ sha: sha("1"), branch: "a" }));
  const recent = await store.submit(buildRequest({ sha: sha("2"), branch: "b" }));
  const running = await store.submit(buildRequest({ sha: sha("3"), branch: "c" }));
  assert.ok(old.kind === "created" && recent.kind === "created" && running.kind === "created");
  await store.complete(old.build.id, "success", emptyOutcome("success", "ok"), 1_000);
  await store.complete(recent.build.id, "success", emptyOutcome("success", "ok"), 5_000);
  for (const id of [old.build.id, recent.build.id, running.build.id]) {
    for (let i = 0; i < 3; i++) await store.appendLog(id, [{ ts: i, stream: "stdout", text: "line" }]);
  }
  assert.equal(await store.deleteLogsBefore(2_000, 2), 2);
  assert.equal(await store.deleteLogsBefore(2_000, 2), 1);
  assert.equal(await store.deleteLogsBefore(2_000, 2), 0);
  assert.deepEqual(await store.readLog(old.build.id), []);
  assert.equal((await store.readLog(recent.build.id)).length, 3);
  assert.equal((await store.readLog(running.build.id)).length, 3, "a build still running keeps its log");
});

test("closing a PR cancels its queued builds but not a push build it shared", async () => {
  const { store } = open();
  const prBuild = await store.submit(buildRequest({ sha: sha("5"), branch: null, trigger: "pull_request", pr: pr(3, true), fetchRef: "refs/pull/3/head" }));
  assert.ok(prBuild.kind === "created");
  const { queued } = await store.cancelPullRequest("octo", "app", 3);
  assert.deepEqual(queued.map((b) => b.id), [prBuild.build.id]);
});
