import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkerPool } from "../../../src/core/worker-pool.ts";
import { CheckRunOpener } from "../../../src/core/check-run-opener.ts";
import { BuildService } from "../../../src/core/build-service.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../../src/queue/sqlite/sqlite-queue.ts";
import { noMetrics } from "../../../src/core/ports.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";
import { RecordingReporter, ScriptedBuilder, emptyArchiver, fileConfig, filesSource, fixedPlanner, namer, quietLog, waitForAbort, type Script } from "../../helpers/pipeline-doubles.ts";

const scratch: string[] = [];
after(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));

async function world(script: Script, dbPath = ":memory:") {
  const sql = new SqliteDatabase(dbPath);
  const store = new SqliteStore(sql);
  const queue = new SqliteQueue(sql);
  const reporter = new RecordingReporter();
  const opener = new CheckRunOpener(store, reporter, quietLog);
  const workDir = await mkdtemp(join(tmpdir(), "ms-pool-"));
  scratch.push(workDir);
  const pool = new WorkerPool({
    queue, opener, concurrency: 2, leaseMs: 300, pollMs: 50, maxTries: 2,
    pipeline: {
      source: filesSource({ "index.js": "" }), config: fileConfig, planner: fixedPlanner(), archiver: emptyArchiver,
      builder: new ScriptedBuilder(script), reporter, store, images: namer, secrets: null,
      links: { detailsUrl: (id) => `http://ms.test/builds/${id}` }, metrics: noMetrics, log: quietLog,
      workDir, buildTimeoutSeconds: 60, progressIntervalMs: 50,
    },
  });
  const links = { detailsUrl: (id: string) => `http://ms.test/builds/${id}` };
  const service = new BuildService({ store, reporter, opener, links, metrics: noMetrics, log: quietLog, wake: () => pool.wake(), cancelRunning: (id) => pool.cancel(id) });
  return { store, queue, reporter, pool, service, sql };
}

async function until<T>(fn: () => Promise<T | null | undefined | false>, what: string, ms = 10_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a submitted build gets a queued check run, runs, and completes on the same run", async () => {
  const w = await world(async () => ({ digest: "sha256:ok" }));
  await w.pool.start();
  const r = await w.service.submit(buildRequest());
  assert.ok(r.kind === "created");
  const done = await until(async () => (await w.store.getBuild(r.build.id))?.state === "completed" && w.store.getBuild(r.build.id), "completion");
  assert.equal(done?.conclusion, "success");
  const kinds = w.reporter.calls.map((c) => c.kind);
  assert.equal(kinds[0], "queued");
  assert.equal(kinds.filter((k) => k === "queued").length, 1, "exactly one check run is opened");
  const started = w.reporter.calls.find((c) => c.kind === "started");
  assert.ok(started && started.kind === "started" && started.checkRunId === done?.checkRunId, "the worker reuses the queued run");
  await w.pool.stop();
});

test("a new push cancels the running build of its branch, and its run says which build replaced it", async () => {
  const w = await world(async (input) => (input.tags[0] === sha("1") ? waitForAbort(input.signal) : { digest: "sha256:new" }));
  await w.pool.start();
  const first = await w.service.submit(buildRequest({ sha: sha("1") }));
  assert.ok(first.kind === "created");
  await until(async () => (await w.store.getBuild(first.build.id))?.state === "running", "the first build to run");
  const second = await w.service.submit(buildRequest({ sha: sha("2") }));
  assert.ok(second.kind === "created");
  const old = await until(async () => {
    const b = await w.store.getBuild(first.build.id);
    return b?.state === "completed" && b;
  }, "the old build to stop");
  assert.equal(old.conclusion, "cancelled");
  assert.equal(old.outcome?.supersededBy?.sha, sha("2"));
  await until(async () => (await w.store.getBuild(second.build.id))?.conclusion === "success", "the new build");
  await w.pool.stop();
});

test("after a crash, a lapsed build is resumed once, then concluded as interrupted; nothing stays in progress", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-crash-"));
  scratch.push(dir);
  const db = join(dir, "db.sqlite");
  // A worker takes the build and dies without a trace: its lease just lapses.
  const dead = await world(async () => ({ digest: "x" }), db);
  const r = await dead.store.submit(buildRequest());
  assert.ok(r.kind === "created");
  await dead.store.setCheckRunId(r.build.id, 4242);
  await dead.queue.claim({ workerId: "crashed", leaseMs: 1, maxRunning: 5 });
  dead.sql.close();

  // The restarted process resumes it; this time the builder dies too.
  await new Promise((res) => setTimeout(res, 10));
  const w = await world(async () => {
    throw new Error("unreachable");
  }, db);
  let tries = 0;
  w.pool["o"].pipeline.builder = new ScriptedBuilder(async (input) => {
    tries++;
    return waitForAbort(input.signal);
  });
  await w.pool.start();
  await until(async () => tries === 1, "the resumed build");
  // Simulate the second crash: stop heartbeats by expiring the lease by hand.
  w.sql.db.prepare("UPDATE builds SET lease_owner = 'gone', lease_expires_at = 0").run();
  const done = await until(async () => {
    const b = await w.store.getBuild(r.build.id);
    return b?.state === "completed" && b.outcome?.title === "Build interrupted" && b;
  }, "the interrupted build to be concluded");
  assert.equal(done.conclusion, "neutral");
  const final = w.reporter.completions().find((c) => c.checkRunId === 4242 && c.outcome.title === "Build interrupted");
  assert.ok(final, "the original check run is concluded");
  assert.match(final.outcome.error?.hint ?? "", /Re-run/);
  await w.pool.stop(100);
});
