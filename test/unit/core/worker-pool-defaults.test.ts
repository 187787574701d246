import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerPool } from "../../../src/core/worker-pool.ts";
import { CheckRunOpener } from "../../../src/core/check-run-opener.ts";
import type { ClaimOptions, Queue } from "../../../src/core/queue.ts";
import type { PipelineDeps } from "../../../src/core/pipeline-deps.ts";
import { RecordingReporter, quietLog } from "../../helpers/pipeline-doubles.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";

// src/main.ts hands the pool `leaseMs: overrides.leaseMs` and `pollMs: overrides.pollMs`, which
// are undefined when microship runs as `npm start`. Those must mean the defaults: a lease of NaN
// never expires (a crashed build is never resumed) and an interval of NaN fires every millisecond.
test("options given as undefined take the defaults: a 30 s lease, claims with it, recovery with it", async () => {
  const claims: ClaimOptions[] = [];
  const owns: { leaseMs: number }[] = [];
  const queue = {
    claim: async (o: ClaimOptions) => (claims.push(o), null),
    recoverExpired: async (_t: number, _n: number, own: { leaseMs: number }) => (owns.push(own), { requeued: [], abandoned: [] }),
  } as unknown as Queue;
  const store = new SqliteStore(new SqliteDatabase(":memory:"));
  const pool = new WorkerPool({
    queue, opener: new CheckRunOpener(store, new RecordingReporter(), quietLog), concurrency: 1, pipeline: { log: quietLog } as PipelineDeps,
    leaseMs: undefined, pollMs: undefined, maxTries: undefined, workerId: undefined,
  });
  await pool.start();
  while (claims.length === 0) await new Promise((r) => setTimeout(r, 5));
  await pool.stop();
  assert.equal(claims[0]?.leaseMs, 30_000);
  assert.match(claims[0]?.workerId ?? "", /^worker-[0-9a-f]{8}$/);
  assert.equal(owns[0]?.leaseMs, 30_000);
});
