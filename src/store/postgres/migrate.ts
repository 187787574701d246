import type { PgDatabase } from "./pg-database.ts";
import { MIGRATIONS } from "./migrations.ts";

/** The session-level advisory lock every replica takes to migrate; any fixed number of our own. */
const MIGRATION_LOCK = 0x6d73_6d67; // "msmg"

/**
 * Brings the schema to the newest version. Replicas starting together each take the migration
 * lock in turn: the first applies what is missing, each one after finds nothing left to do.
 * Every version is applied in its own transaction with its row in schema_migrations, so a
 * crash mid-way leaves the database at the last whole version. Returns the versions applied.
 */
export async function migrate(db: PgDatabase, migrations = MIGRATIONS): Promise<number[]> {
  const client = await db.pool.connect();
  let broken: Error | undefined;
  try {
    // A migration may take long on a big table, and so may waiting for another replica's.
    await client.query("SET statement_timeout = 0");
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
      const done = new Set((await client.query("SELECT version FROM schema_migrations")).rows.map((r) => Number(r.version)));
      const newest = Math.max(0, ...done);
      const known = Math.max(0, ...migrations.map((m) => m.version));
      if (newest > known) throw new Error(`the database's schema is version ${newest}, newer than this microship knows (${known}): run a newer microship`);
      const applied: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        await client.query("BEGIN");
        try {
          await client.query(m.sql);
          await client.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [m.version, Date.now()]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK");
          throw err;
        }
        applied.push(m.version);
      }
      return applied;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    // Closed, never reused: it has no statement timeout, and after a failure it may still hold
    // the lock or a transaction.
    client.release(broken ?? true);
  }
}
