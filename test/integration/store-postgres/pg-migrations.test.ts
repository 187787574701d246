import { after, test } from "node:test";
import assert from "node:assert/strict";
import { PgDatabase } from "../../../src/store/postgres/pg-database.ts";
import { migrate } from "../../../src/store/postgres/migrate.ts";
import { MIGRATIONS } from "../../../src/store/postgres/migrations.ts";
import { startPostgresCluster } from "../../helpers/postgres-cluster.ts";

const cluster = await startPostgresCluster();
after(() => cluster.stop());

test("replicas migrating one database at once all succeed, and the schema is applied once", async () => {
  const url = await cluster.database();
  const replicas = Array.from({ length: 4 }, () => new PgDatabase(url, 2));
  try {
    const applied = await Promise.all(replicas.map((db) => migrate(db)));
    assert.deepEqual(applied.map((a) => a.length).sort(), [0, 0, 0, MIGRATIONS.length], "one replica applied everything, the others nothing");
    const versions = (await replicas[0]!.query("SELECT version FROM schema_migrations ORDER BY version")).rows.map((r) => r.version);
    assert.deepEqual(versions, MIGRATIONS.map((m) => m.version));
    assert.deepEqual(await migrate(replicas[1]!), [], "a restart finds nothing to do");
    const locks = await replicas[0]!.query("SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory'");
    assert.equal(Number(locks.rows[0].n), 0, "the migration lock is released");
  } finally {
    await Promise.all(replicas.map((db) => db.close()));
  }
});

test("the control: the schema's DDL is not idempotent, so only the version check under the lock keeps replicas apart", async () => {
  // Run by several connections at once with no lock and no version check, all but one fail
  // (duplicate tables or types): what the first test's replicas would do without migrate().
  const url = await cluster.database();
  const dbs = Array.from({ length: 4 }, () => new PgDatabase(url, 1));
  try {
    const results = await Promise.allSettled(dbs.map((db) => db.transaction((q) => q.query(MIGRATIONS[0]!.sql))));
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1, "unserialised migrations collided");
  } finally {
    await Promise.all(dbs.map((db) => db.close()));
  }
});

test("a later version is applied on top, in order; a failing one leaves the last whole version", async () => {
  const url = await cluster.database();
  const db = new PgDatabase(url);
  try {
    await migrate(db);
    const next = MIGRATIONS.length + 1;
    const extra = [...MIGRATIONS, { version: next + 1, sql: "ALTER TABLE builds ADD COLUMN later_too TEXT" }, { version: next, sql: "ALTER TABLE builds ADD COLUMN later TEXT" }];
    assert.deepEqual(await migrate(db, extra), [next, next + 1]);
    const broken = [...extra, { version: next + 2, sql: "ALTER TABLE builds ADD COLUMN fine TEXT; SELECT no_such_function()" }];
    await assert.rejects(migrate(db, broken), /no_such_function/);
    const cols = (await db.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'builds' AND column_name IN ('later', 'later_too', 'fine')")).rows.map((r) => r.column_name).sort();
    assert.deepEqual(cols, ["later", "later_too"], "the failed version's first statement was rolled back with it");
    const newest = (await db.query("SELECT MAX(version) AS v FROM schema_migrations")).rows[0].v;
    assert.equal(newest, next + 1);
  } finally {
    await db.close();
  }
});

test("a database migrated by a newer microship is refused, not written", async () => {
  const url = await cluster.database();
  const db = new PgDatabase(url);
  try {
    await migrate(db);
    await db.query("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)");
    await assert.rejects(migrate(db), /schema is version 999, newer than this microship knows/);
  } finally {
    await db.close();
  }
});

test("version 4 notes when each stored log was last written: old logs from their build's end, and a log an older replica starts gets its row too", async () => {
  const url = await cluster.database();
  const db = new PgDatabase(url);
  try {
    await migrate(db, MIGRATIONS.filter((m) => m.version < 4));
    const build = (id: string, state: string, completedAt: number | null) =>
      db.query(
        `INSERT INTO builds (id, installation_id, owner, repo, sha, attempt, is_default_branch, untrusted, request, state, created_at, completed_at)
         VALUES ($1, 1, 'o', 'r', $1, 1, true, false, '{}', $2, 1, $3)`,
        [id, state, completedAt],
      );
    await build("ended", "completed", 5_000);
    await build("running", "running", null);
    await build("unlogged", "completed", 5_000);
    for (const id of ["ended", "ended", "running"]) {
      await db.query("INSERT INTO log_chunks (build_id, seq, lines) VALUES ($1, (SELECT COALESCE(MAX(seq), -1) + 1 FROM log_chunks WHERE build_id = $1), '[]')", [id]);
    }
    const before = Date.now();
    assert.deepEqual(await migrate(db), [4]);
    const noted = async () => new Map((await db.query("SELECT build_id, written_at FROM log_writes")).rows.map((r) => [String(r.build_id), Number(r.written_at)]));
    let rows = await noted();
    assert.equal(rows.get("ended"), 5_000, "a finished build's log counts from its end, as before");
    assert.ok(rows.get("running")! >= before - 1_000, "a running build's counts from the upgrade");
    assert.equal(rows.has("unlogged"), false);
    // The older code's plain insert (a replica not yet upgraded) still leaves a row to sweep by.
    await db.query("INSERT INTO log_chunks (build_id, seq, lines) VALUES ('unlogged', 0, '[]')");
    rows = await noted();
    assert.ok(rows.get("unlogged")! >= before - 1_000);
    assert.equal(rows.get("ended"), 5_000, "the trigger never moves an existing row");
  } finally {
    await db.close();
  }
});
