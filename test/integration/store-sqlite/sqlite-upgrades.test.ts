import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";

test("a database an older microship made gets each stored log's last write once: a finished build's from its end, a running one's from now", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-sqlite-upgrade-"));
  try {
    const path = join(dir, "microship.db");
    // The schema as it was before log_writes, with two logs in it.
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE builds (id TEXT PRIMARY KEY, installation_id INTEGER NOT NULL, owner TEXT NOT NULL, repo TEXT NOT NULL, sha TEXT NOT NULL,
      attempt INTEGER NOT NULL, branch TEXT, pr_number INTEGER, is_default_branch INTEGER NOT NULL, request TEXT NOT NULL, state TEXT NOT NULL,
      conclusion TEXT, check_run_id INTEGER, cancel_requested INTEGER NOT NULL DEFAULT 0, superseded_by TEXT, tries INTEGER NOT NULL DEFAULT 0,
      lease_owner TEXT, lease_expires_at INTEGER, created_at INTEGER NOT NULL, started_at INTEGER, completed_at INTEGER, outcome TEXT);
      CREATE TABLE log_chunks (build_id TEXT NOT NULL, seq INTEGER NOT NULL, lines TEXT NOT NULL, PRIMARY KEY (build_id, seq));
      INSERT INTO builds (id, installation_id, owner, repo, sha, attempt, is_default_branch, request, state, created_at, completed_at)
        VALUES ('ended', 1, 'o', 'r', 'a', 1, 1, '{}', 'completed', 1, 5000), ('running', 1, 'o', 'r', 'b', 1, 1, '{}', 'running', 1, NULL);
      INSERT INTO log_chunks VALUES ('ended', 0, '[]'), ('ended', 1, '[]'), ('running', 0, '[]');`);
    old.close();
    const before = Date.now();
    const db = new SqliteDatabase(path);
    const rows = new Map((db.db.prepare("SELECT build_id, written_at FROM log_writes").all() as { build_id: string; written_at: number }[]).map((r) => [r.build_id, Number(r.written_at)]));
    assert.equal(rows.get("ended"), 5_000);
    assert.ok(rows.get("running")! >= before);
    db.db.exec("UPDATE log_writes SET written_at = 1");
    db.close();
    const again = new SqliteDatabase(path);
    const counts = again.db.prepare("SELECT COUNT(*) AS n FROM log_writes WHERE written_at = 1").get() as { n: number };
    assert.equal(Number(counts.n), 2, "reopened, the upgrade is not run again");
    again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
