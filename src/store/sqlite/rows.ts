import type { BuildRecord } from "../../core/build.ts";
import type { BuildState, Conclusion } from "../../core/types.ts";
import type { SqliteDatabase } from "./sqlite-database.ts";

export type Row = Record<string, unknown>;

export function rowToBuild(row: Row): BuildRecord {
  return {
    id: String(row.id),
    request: JSON.parse(String(row.request)),
    attempt: Number(row.attempt),
    state: row.state as BuildState,
    conclusion: (row.conclusion ?? null) as Conclusion | null,
    checkRunId: row.check_run_id == null ? null : Number(row.check_run_id),
    createdAt: Number(row.created_at),
    startedAt: row.started_at == null ? null : Number(row.started_at),
    completedAt: row.completed_at == null ? null : Number(row.completed_at),
    cancelRequested: Number(row.cancel_requested) === 1,
    supersededBy: row.superseded_by == null ? null : String(row.superseded_by),
    tries: Number(row.tries),
    leaseOwner: row.lease_owner == null ? null : String(row.lease_owner),
    leaseExpiresAt: row.lease_expires_at == null ? null : Number(row.lease_expires_at),
    outcome: row.outcome == null ? null : JSON.parse(String(row.outcome)),
  };
}

export function loadBuild(sql: SqliteDatabase, id: string): BuildRecord | null {
  const row = sql.prepare("SELECT * FROM builds WHERE id = ?").get(id) as Row | undefined;
  return row ? rowToBuild(row) : null;
}

/** A build this transaction just read or wrote: its absence is a bug, not an answer. */
export function mustLoadBuild(sql: SqliteDatabase, id: string): BuildRecord {
  const build = loadBuild(sql, id);
  if (!build) throw new Error(`build ${id} vanished`);
  return build;
}
