import type { DatabaseSync } from "node:sqlite";

/**
 * One-time steps that bring a database an older microship made up to SCHEMA's meaning, counted
 * in SQLite's user_version: SCHEMA itself only creates what is missing, so it can't fill a new
 * table from the old ones. Each step runs once, under the write lock, however many processes open
 * the file at once.
 */
const UPGRADES: readonly ((db: DatabaseSync) => void)[] = [
  // 1: log retention counts from each log's last write (log_writes). The logs stored before it
  // count from when their build ended, as they did; a build still running counts from now.
  (db) =>
    db.prepare(
      `INSERT OR IGNORE INTO log_writes (build_id, written_at)
       SELECT c.build_id, COALESCE(b.completed_at, ?) FROM (SELECT DISTINCT build_id FROM log_chunks) c LEFT JOIN builds b ON b.id = c.build_id`,
    ).run(Date.now()),
];

const version = (db: DatabaseSync) => Number((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version);

export function upgradeSqlite(db: DatabaseSync): void {
  if (version(db) >= UPGRADES.length) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    // Read again under the lock: another process may have upgraded meanwhile.
    for (let v = version(db); v < UPGRADES.length; v++) UPGRADES[v]!(db);
    db.exec(`PRAGMA user_version = ${UPGRADES.length}`);
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}
