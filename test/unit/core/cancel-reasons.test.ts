import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkerPool } from "../../../src/core/worker-pool.ts";
import { CheckRunOpener } from "../../../src/core/check-run-opener.ts";
import { BuildService } from "../../../src/core/build-service.ts";
import type { BuildRecord } from "../../../src/core/build.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../../src/queue/sqlite/sqlite-queue.ts";
import { noMetrics } from "../../../src/core/ports.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";
import { RecordingReporter, ScriptedBuilder, emptyArchiver, fileConfig, filesSource, fixedPlanner, namer, quietLog, waitForAbort } from "../../helpers/pipeline-doubles.ts";

// A running build stops for one of three reasons: a newer commit, its pull request closing, or a
// Cancel on the dashboard. Its check run must say which; the pool asked to stop (as main.ts wires
// it, or by a request from another replica seen on the heartbeat) does not know, so only the
// store's supersede makes "Superseded by a newer build".

const scratch: string[] = [];
after(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));

async function world() {
  const sql = new SqliteDatabase(":memory:");
  const store = new SqliteStore(sql);
  const reporter = new RecordingReporter();
  const opener = new CheckRunOpener(store, reporter, quietLog);
  const workDir = await mkdtemp(join(tmpdir(), "ms-cancel-why-"));
  scratch.push(workDir);
  const links = { detailsUrl: (id: string) => `http://ms.test/builds/${id}` };
  const pool = new WorkerPool({
    queue: new SqliteQueue(sql), opener, concurrency: 2, leaseMs: 600, pollMs: 50,
    pipeline: {
      source: filesSource({ "index.js": "" }), config: fileConfig, planner: fixedPlanner(), archiver: emptyArchiver,
      builder: new ScriptedBuilder(async (input) => (input.tags[0] === sha("9") ? { digest: "sha256:new" } : waitForAbort(input.signal))),
      reporter, store, images: namer, secrets: null, links, metrics: noMetrics, log: quietLog, workDir, buildTimeoutSeconds: 60, progressIntervalMs: 50,
    },
  });
  // As main.ts wires it.
  const service = new BuildService({ store, reporter, opener, links, metrics: noMetrics, log: quietLog, wake: () => pool.wake(), cancelRunning: (id, why) => pool.cancel(id, why) });
  await pool.start();
  const until = async (id: string, state: "running" | "completed"): Promise<BuildRecord> => {
    for (const t0 = Date.now(); Date.now() - t0 < 10_000; await new Promise((r) => setTimeout(r, 20))) {
      const b = await store.getBuild(id);
      if (b?.state === state) return b;
    }
    throw new Error(`build ${id} never ${state}`);
  };
  const running = async (over: Parameters<typeof buildRequest>[0]) => {
    const r = await service.submit(buildRequest(over));
    assert.ok(r.kind === "created");
    await until(r.build.id, "running");
    return r.build.id;
  };
  return { store, service, pool, until, running };
}

test("Cancel on the dashboard: the run says who cancelled it, not that a newer build replaced it", async () => {
  const w = await world();
  try {
    const id = await w.running({ sha: sha("1") });
    await w.service.cancel(id, "alice");
    const done = await w.until(id, "completed");
    assert.equal(done.conclusion, "cancelled");
    assert.equal(done.outcome?.title, "Build cancelled");
    assert.match(done.outcome?.error?.message ?? "", /@alice cancelled this build from the dashboard/);
    assert.equal(done.outcome?.supersededBy, null);
  } finally {
    await w.pool.stop();
  }
});

test("its pull request closed: the run says so", async () => {
  const w = await world();
  try {
    const id = await w.running({ sha: sha("2"), branch: null, pr: { number: 7, fork: false, headRepo: "octo/app", headRef: "x", baseRef: "main" } });
    await w.service.pullRequestClosed("octo", "app", 7);
    const done = await w.until(id, "completed");
    assert.equal(done.outcome?.title, "Build cancelled");
    assert.match(done.outcome?.error?.message ?? "", /pull request was closed/);
  } finally {
    await w.pool.stop();
  }
});

test("a stop request only the heartbeat sees (another replica's Cancel): cancelled, not superseded", async () => {
  const w = await world();
  try {
    const id = await w.running({ sha: sha("3") });
    await w.store.cancelBuild(id);
    const done = await w.until(id, "completed");
    assert.equal(done.outcome?.title, "Build cancelled");
    assert.doesNotMatch(done.outcome?.error?.message ?? "", /newer/);
  } finally {
    await w.pool.stop();
  }
});

test("a newer commit of the branch: superseded, naming the newer build", async () => {
  const w = await world();
  try {
    const id = await w.running({ sha: sha("4") });
    const newer = await w.service.submit(buildRequest({ sha: sha("9") }));
    assert.ok(newer.kind === "created");
    const done = await w.until(id, "completed");
    assert.equal(done.outcome?.title, "Superseded by a newer build");
    assert.equal(done.outcome?.supersededBy?.sha, sha("9"));
    assert.equal(done.outcome?.error?.message, "A newer build replaced this one.");
  } finally {
    await w.pool.stop();
  }
});
