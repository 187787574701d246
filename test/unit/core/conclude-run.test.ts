import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { BuildService } from "../../../src/core/build-service.ts";
import { emptyOutcome, type BuildOutcome, type BuildRecord } from "../../../src/core/build.ts";
import { CheckRunOpener } from "../../../src/core/check-run-opener.ts";
import { cancelledError, LeaseLostError, userError } from "../../../src/core/errors.ts";
import type { Metrics } from "../../../src/core/ports.ts";
import { runBuild } from "../../../src/core/run-build.ts";
import { WorkerPool } from "../../../src/core/worker-pool.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../../src/queue/sqlite/sqlite-queue.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";
import {
  RecordingReporter, ScriptedBuilder, emptyArchiver, fileConfig, filesSource, fixedPlanner, namer, quietLog, waitForAbort, type Script,
} from "../../helpers/pipeline-doubles.ts";

// Every way a build ends goes through concludeRun: the code says so (only it ends a build in
// the store, concludes a main run or counts a finished build), and each path shows it by the
// finished-build metric, counted there once, and by outcomes shaped as they were before it.

const scratch: string[] = [];
after(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));

const SRC = resolve(import.meta.dirname, "../../../src");
const links = { detailsUrl: (id: string) => `http://ms.test/builds/${id}` };

async function world(script: Script = async () => ({ digest: "sha256:ok" })) {
  const sql = new SqliteDatabase(":memory:");
  const store = new SqliteStore(sql);
  const queue = new SqliteQueue(sql);
  const reporter = new RecordingReporter();
  const finished: string[] = [];
  const metrics: Metrics = { delivery() {}, buildFinished: (c) => void finished.push(c), phase() {} };
  const opener = new CheckRunOpener(store, reporter, quietLog, links);
  const workDir = await mkdtemp(join(tmpdir(), "ms-conclude-"));
  scratch.push(workDir);
  const pipeline = {
    source: filesSource({ "index.js": "" }), config: fileConfig, planner: fixedPlanner(), archiver: emptyArchiver, builder: new ScriptedBuilder(script),
    reporter, store, images: namer, secrets: null, links, metrics, log: quietLog, workDir, buildTimeoutSeconds: 60, progressIntervalMs: 20,
  };
  const pool = new WorkerPool({ queue, opener, concurrency: 1, leaseMs: 300, pollMs: 50, maxTries: 2, pipeline });
  const service = new BuildService({ store, reporter, opener, links, metrics, log: quietLog, wake() {}, cancelRunning() {} });
  const claim = async () => (await queue.claim({ workerId: "w", leaseMs: 60_000, maxRunning: 10 }))!;
  return { sql, store, reporter, finished, opener, pool, service, pipeline, claim };
}

async function until<T>(fn: () => Promise<T | null | undefined | false>, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never saw ${what}`);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Files of src/ (the store and queue adapters aside) with a call to `name`. */
function callersOf(name: string): string[] {
  return tsFiles(SRC)
    .map((f) => relative(SRC, f))
    .filter((f) => !f.startsWith("store/") && !f.startsWith("queue/"))
    .filter((f) => readFileSync(join(SRC, f), "utf8").includes(`.${name}(`))
    .sort();
}

test("only concludeRun ends a build in the store or counts it finished; check runs are concluded there and, one app at a time, in check-runs.ts", () => {
  assert.deepEqual(callersOf("complete"), ["core/conclude-run.ts"]);
  assert.deepEqual(callersOf("buildFinished"), ["core/conclude-run.ts"]);
  assert.deepEqual(callersOf("completed"), ["core/check-runs.ts", "core/conclude-run.ts"]);
});

test("a build abandoned after crashes concludes its app runs and its main run with the interrupted outcome, the stored log's end on the main run", async () => {
  const w = await world();
  const r = await w.store.submit(buildRequest());
  assert.ok(r.kind === "created");
  await w.store.setCheckRunId(r.build.id, 4242);
  await w.store.setAppCheckRun(r.build.id, "web", 77);
  await w.store.appendLog(r.build.id, [{ ts: 1, stream: "stdout", text: "last words" }]);
  w.sql.db.prepare("UPDATE builds SET state = 'running', tries = 2, lease_owner = 'dead', lease_expires_at = 1 WHERE id = ?").run(r.build.id);
  await w.pool.recover();
  const interrupted: BuildOutcome = {
    ...emptyOutcome("neutral", "Build interrupted"),
    error: { kind: "infra", message: "The build was interrupted 2 times (the builder or microship stopped while it ran).", hint: "Re-run the check to build this commit again.", location: null },
  };
  const done = w.reporter.completions();
  assert.deepEqual(done.map((c) => [c.checkRunId, c.app, c.outcome]), [[77, "web", interrupted], [4242, null, interrupted]]);
  assert.deepEqual(done[1]!.tail.map((l) => l.text), ["last words"]);
  assert.deepEqual(await w.store.openAppCheckRuns(r.build.id), []);
  const stored = await w.store.getBuild(r.build.id);
  assert.deepEqual([stored?.state, stored?.conclusion, stored?.outcome], ["completed", "neutral", interrupted]);
  assert.deepEqual(w.finished, ["neutral"]);
  await w.pool.recover();
  assert.equal(w.reporter.completions().length, 2, "a second sweep finds nothing more to conclude");
});

test("a queued build superseded by a newer push, and one whose PR closed, conclude cancelled as before", async () => {
  const w = await world();
  const old = await w.service.submit(buildRequest({ sha: sha("1"), branch: "feature" }));
  assert.ok(old.kind === "created");
  const runId = await until(() => w.opener.ensure(old.build), "the old build's run");
  const newer = await w.service.submit(buildRequest({ sha: sha("2"), branch: "feature", deliveryId: "d2" }));
  assert.ok(newer.kind === "created");
  const superseded: BuildOutcome = { ...emptyOutcome("cancelled", "Superseded by a newer build"), supersededBy: { buildId: newer.build.id, sha: sha("2") }, skippedReason: null };
  const stored = await until(async () => (await w.store.getBuild(old.build.id))?.outcome && w.store.getBuild(old.build.id), "the old build's end");
  assert.deepEqual([stored?.conclusion, stored?.outcome], ["cancelled", superseded]);
  assert.deepEqual(w.reporter.completions().filter((c) => c.checkRunId === runId).map((c) => c.outcome), [superseded]);

  const pr = { number: 9, fork: false, headRepo: "octo/app", headRef: "x", baseRef: "main" };
  const open = await w.service.submit(buildRequest({ sha: sha("3"), branch: "x", pr, trigger: "pull_request", deliveryId: "d3" }));
  assert.ok(open.kind === "created");
  await w.service.pullRequestClosed("octo", "app", 9);
  const closed = await until(async () => (await w.store.getBuild(open.build.id))?.outcome, "the closed PR's build to end");
  assert.deepEqual(closed, { ...emptyOutcome("cancelled", "Build cancelled"), supersededBy: null, skippedReason: "The pull request was closed before this build started." });
  assert.deepEqual(w.finished, ["cancelled", "cancelled"], "each counted once, when the store ended it");
});

/** A reporter whose `queued` answers only when the test lets it: a create still in flight. */
class SlowCreate extends RecordingReporter {
  release: () => void = () => {};
  private readonly gate = new Promise<void>((r) => (this.release = r));
  override async queued(build: BuildRecord): Promise<number> {
    await this.gate;
    return super.queued(build);
  }
}

test("a run opened after its build was cancelled is concluded without ending the build again", async () => {
  const store = new SqliteStore(new SqliteDatabase(":memory:"));
  const reporter = new SlowCreate();
  const opener = new CheckRunOpener(store, reporter, quietLog, links);
  const old = await store.submit(buildRequest({ sha: sha("4"), branch: "feature" }));
  assert.ok(old.kind === "created");
  const opening = opener.ensure(old.build);
  const newer = await store.submit(buildRequest({ sha: sha("5"), branch: "feature", deliveryId: "d5" }));
  assert.ok(newer.kind === "created");
  reporter.release();
  const runId = await opening;
  const late = reporter.completions();
  assert.deepEqual(late.map((c) => [c.checkRunId, c.app, c.outcome]), [
    [runId, null, { ...emptyOutcome("cancelled", "Superseded by a newer build"), supersededBy: { buildId: newer.build.id, sha: sha("5") }, skippedReason: null }],
  ]);
  assert.equal((await store.getBuild(old.build.id))?.outcome, null, "the store's end is the build service's to write");
});

test("a run that ends by success, failure or cancel is concluded once on its main run and counted once; a worker that lost its lease reports nothing", async () => {
  for (const [script, abort, conclusion] of [
    [async () => ({ digest: "sha256:ok" }), null, "success"],
    [async () => Promise.reject(userError("RUN npm ci exited with 1")), null, "failure"],
    [async (i) => waitForAbort(i.signal), cancelledError("stop"), "cancelled"],
  ] as [Script, Error | null, string][]) {
    const w = await world(script);
    assert.equal((await w.store.submit(buildRequest())).kind, "created");
    const build = await w.claim();
    const controller = new AbortController();
    if (abort) setTimeout(() => controller.abort(abort), 50);
    const outcome = await runBuild(build, controller.signal, w.pipeline);
    assert.equal(outcome.conclusion, conclusion);
    const main = w.reporter.completions();
    assert.equal(main.length, 1);
    assert.deepEqual(main[0]!.outcome, outcome);
    assert.deepEqual((await w.store.getBuild(build.id))?.outcome, outcome);
    assert.deepEqual(w.finished, [conclusion]);
  }
  const w = await world(async (i) => waitForAbort(i.signal));
  assert.equal((await w.store.submit(buildRequest())).kind, "created");
  const build = await w.claim();
  const controller = new AbortController();
  setTimeout(() => controller.abort(new LeaseLostError()), 50);
  await runBuild(build, controller.signal, w.pipeline);
  assert.deepEqual([w.reporter.completions().length, (await w.store.getBuild(build.id))?.state, w.finished], [0, "running", []]);
});
