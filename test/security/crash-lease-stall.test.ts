/**
 * From 16: a stall longer than the lease let recovery requeue every running build (and the
 * heartbeat then aborted them, so each was built twice or concluded "interrupted"). Recovery
 * now renews the leases of builds this worker is still running.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkerPool } from "../../src/core/worker-pool.ts";
import { CheckRunOpener } from "../../src/core/check-run-opener.ts";
import { BuildService } from "../../src/core/build-service.ts";
import { SqliteDatabase } from "../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../src/queue/sqlite/sqlite-queue.ts";
import { noMetrics } from "../../src/core/ports.ts";
import { buildRequest, sha } from "../helpers/build-requests.ts";
import { RecordingReporter, ScriptedBuilder, emptyArchiver, fileConfig, filesSource, fixedPlanner, namer, quietLog, type Script } from "../helpers/pipeline-doubles.ts";

const LEASE_MS = 300;

/** Blocks the event loop, as a catastrophic regex or a huge synchronous parse once did. */
function stall(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy: no timer, heartbeat or I/O callback can run
  }
}

async function world(script: Script) {
  const dir = await mkdtemp(join(tmpdir(), "ms-stall-"));
  const sql = new SqliteDatabase(join(dir, "db.sqlite"));
  const store = new SqliteStore(sql);
  const queue = new SqliteQueue(sql);
  const reporter = new RecordingReporter();
  const opener = new CheckRunOpener(store, reporter, quietLog);
  const links = { detailsUrl: (id: string) => `http://ms.test/builds/${id}` };
  const pool = new WorkerPool({
    queue, opener, concurrency: 2, leaseMs: LEASE_MS, pollMs: 50, maxTries: 2,
    pipeline: {
      source: filesSource({ "index.js": "" }), config: fileConfig, planner: fixedPlanner(), archiver: emptyArchiver,
      builder: new ScriptedBuilder(script), reporter, store, images: namer, secrets: null, links, metrics: noMetrics, log: quietLog,
      workDir: dir, buildTimeoutSeconds: 60, progressIntervalMs: 50,
    },
  });
  const service = new BuildService({ store, reporter, opener, links, metrics: noMetrics, log: quietLog, wake: () => pool.wake(), cancelRunning: (id) => pool.cancel(id) });
  return { store, queue, pool, service, reporter, async close() { await pool.stop(100); sql.close(); await rm(dir, { recursive: true, force: true }); } };
}

async function until<T>(fn: () => Promise<T | null | undefined | false>, what: string, ms = 15_000): Promise<T> {
  for (const t0 = Date.now(); ; ) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("an event-loop stall four times the lease does not requeue or abort the builds this worker runs", async () => {
  const starts: string[] = [];
  let stalled = false;
  const w = await world(async (input) => {
    starts.push(input.tags[0]!);
    // Both builds are running before the stall, so both leases lapse during it.
    await until(async () => starts.length >= 2, "both builds to start");
    if (!stalled) {
      stalled = true;
      stall(LEASE_MS * 4);
    }
    await new Promise((r) => setTimeout(r, LEASE_MS));
    if (input.signal.aborted) throw input.signal.reason;
    return { digest: "sha256:ok" };
  });
  await w.pool.start();
  const a = await w.service.submit(buildRequest({ sha: sha("a"), branch: "a" }));
  const b = await w.service.submit(buildRequest({ sha: sha("b"), branch: "b" }));
  assert.ok(a.kind === "created" && b.kind === "created");
  for (const id of [a.build.id, b.build.id]) {
    const done = await until(async () => {
      const x = await w.store.getBuild(id);
      return x?.state === "completed" && x;
    }, "the build to finish");
    assert.equal(done.conclusion, "success", `${done.outcome?.title}`);
    assert.equal(done.tries, 1, "never requeued");
  }
  assert.equal(starts.length, 2, "each build ran once");
  await w.close();
});

test("recovery that runs first after the stall renews the lease of a build still running here", async () => {
  let release: (() => void) | null = null;
  const w = await world(async () => {
    await new Promise<void>((r) => (release = r));
    return { digest: "sha256:ok" };
  });
  await w.pool.start();
  const r = await w.service.submit(buildRequest({ sha: sha("c"), branch: "c" }));
  assert.ok(r.kind === "created");
  await until(async () => release !== null, "the build to run");
  // Drive time: the lease is long gone by the clock when recovery looks, before any heartbeat.
  stall(LEASE_MS * 2);
  await w.pool.recover();
  const after = await w.store.getBuild(r.build.id);
  assert.equal(after?.state, "running", "not requeued");
  assert.ok((after?.leaseExpiresAt ?? 0) > Date.now(), "lease renewed");
  release!();
  const done = await until(async () => {
    const x = await w.store.getBuild(r.build.id);
    return x?.state === "completed" && x;
  }, "the build to finish");
  assert.equal(done.conclusion, "success");
  assert.equal(done.tries, 1);
  await w.close();
});

test("a lease another worker took after it lapsed still aborts the build here (it is not renewed back)", async () => {
  const w = await world((input) => new Promise((_, reject) => input.signal.addEventListener("abort", () => reject(input.signal.reason), { once: true })));
  await w.pool.start();
  const r = await w.service.submit(buildRequest({ sha: sha("d"), branch: "d" }));
  assert.ok(r.kind === "created");
  await until(async () => (await w.store.getBuild(r.build.id))?.state === "running", "the build to run");
  w.queue["sql"].db.prepare("UPDATE builds SET lease_owner = 'other-worker', lease_expires_at = ? WHERE id = ?").run(Date.now() + 60_000, r.build.id);
  await until(async () => w.reporter.calls.length > 0 && (await w.store.getBuild(r.build.id))?.leaseOwner === "other-worker" && w.pool.active === 0, "the build to let go");
  assert.equal((await w.store.getBuild(r.build.id))?.state, "running", "left to its new owner");
  await w.close();
});
