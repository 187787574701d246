import { after, test } from "node:test";
import assert from "node:assert/strict";
import { PgDatabase } from "../../../src/store/postgres/pg-database.ts";
import { migrate } from "../../../src/store/postgres/migrate.ts";
import { PgStore } from "../../../src/store/postgres/pg-store.ts";
import { PgQueue } from "../../../src/queue/postgres/pg-queue.ts";
import { emptyOutcome } from "../../../src/core/build.ts";
import type { LogLine } from "../../../src/core/builder.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";
import { startPostgresCluster } from "../../helpers/postgres-cluster.ts";

const cluster = await startPostgresCluster();
after(() => cluster.stop());

async function open() {
  const db = new PgDatabase(await cluster.database());
  await migrate(db);
  return { db, store: new PgStore(db), queue: new PgQueue(db) };
}

// What SQLite takes without a thought and Postgres does not: NUL (text and JSON functions refuse
// it), lone surrogates (JSON functions refuse them), ids past 32 bits, SQL in values.
const NASTY = "nul\u0000 lone\ud800 low\udc00 quote' \"; DROP TABLE builds; -- \\u0000 emoji \u{1f680}";
/**
 * Values kept in columns of their own (branch, lease owner, app name) can't hold NUL in
 * Postgres at all; none can carry one: git refuses NUL in a ref name, app names are checked
 * (core/repo-config.ts) and worker ids are ours. The rest of NASTY they take.
 */
const COLUMN_NASTY = NASTY.replaceAll("\u0000", "");

test("a build log with NUL, lone surrogates and SQL in it comes back exactly, whole and in pages", async () => {
  const { db, store } = await open();
  try {
    const build = await store.submit(buildRequest({ sha: sha("1") }));
    assert.equal(build.kind, "created");
    const id = (build as { build: { id: string } }).build.id;
    const lines: LogLine[] = [{ ts: 1, stream: "stdout", text: NASTY }, { ts: 2, stream: "stderr", text: "\u0000".repeat(100) }];
    await store.appendLog(id, lines);
    await store.appendLog(id, [{ ts: 3, stream: "system", text: "after" }]);
    assert.deepEqual(await store.readLog(id), [...lines, { ts: 3, stream: "system", text: "after" }]);
    assert.deepEqual((await store.readLogPage(id, -1, 1))?.lines, lines, "the first chunk, alone");
    assert.equal((await store.logTail(id, 1)).afterSeq, 0);
    assert.equal((await store.countByState()).queued, 1, "the table is still there");
  } finally {
    await db.close();
  }
});

test("a request and an outcome with NUL and lone surrogates, and ids past 32 bits, round-trip", async () => {
  const { db, store, queue } = await open();
  try {
    const installationId = 2 ** 40 + 7;
    const request = buildRequest({ sha: sha("2"), installationId, requestedBy: NASTY, branch: `b${COLUMN_NASTY}` });
    const created = await store.submit(request);
    assert.equal(created.kind, "created");
    const id = (created as { build: { id: string } }).build.id;
    const claimed = await queue.claim({ workerId: COLUMN_NASTY, leaseMs: 1_000, maxRunning: 1 });
    assert.equal(claimed?.id, id);
    assert.equal(claimed?.leaseOwner, COLUMN_NASTY.toWellFormed(), "lone surrogates stored as U+FFFD, as UTF-8 demands");
    const checkRunId = 2 ** 33 + 5;
    await store.setCheckRunId(id, checkRunId);
    await store.setAppCheckRun(id, "api", checkRunId + 1);
    assert.deepEqual(await store.openAppCheckRuns(id), [{ app: "api", checkRunId: checkRunId + 1 }]);
    const outcome = { ...emptyOutcome("failure", NASTY), messages: [{ level: "error" as const, text: NASTY }] };
    assert.equal(await store.complete(id, "failure", outcome as never), true);
    const back = await store.getBuild(id);
    assert.deepEqual(back?.request, request);
    assert.equal(back?.request.installationId, installationId);
    assert.equal(back?.checkRunId, checkRunId);
    assert.deepEqual(back?.outcome, outcome);
    assert.deepEqual((await store.latestBuildForSha("octo", "app", sha("2"), true))?.id, id);
  } finally {
    await db.close();
  }
});

test("a statement that hangs is cut off by the statement timeout instead of hanging its caller", async () => {
  const db = new PgDatabase(await cluster.database(), 2, 300);
  try {
    await migrate(db);
    await assert.rejects(db.query("SELECT pg_sleep(30)"), /statement timeout/);
    // A lock held elsewhere (another replica's stuck transaction) is waited for only that long too.
    const holder = await db.pool.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("LOCK TABLE builds IN ACCESS EXCLUSIVE MODE");
      await assert.rejects(new PgStore(db).submit(buildRequest()), /statement timeout/);
      await holder.query("ROLLBACK");
    } finally {
      holder.release();
    }
    assert.equal((await new PgStore(db).submit(buildRequest())).kind, "created", "and then it works again");
  } finally {
    await db.close();
  }
});
