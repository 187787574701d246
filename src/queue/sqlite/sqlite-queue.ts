import type { BuildRecord } from "../../core/build.ts";
import type { ClaimOptions, HeartbeatResult, OwnLeases, Queue } from "../../core/queue.ts";
import type { SqliteDatabase } from "../../store/sqlite/sqlite-database.ts";
import { rowToBuild, type Row } from "../../store/sqlite/rows.ts";

// The order core/queue.ts states, in one query so a claim never reads the whole queue. Fairness:
// the installation with the fewest running builds goes first, then the oldest job. A
// default-branch build waits while an older one of the same branch runs: those queue, never cancel.
const NEXT_JOB = `
SELECT b.* FROM builds b
WHERE b.state = 'queued'
  AND NOT (b.is_default_branch = 1 AND EXISTS (
    SELECT 1 FROM builds o WHERE o.state = 'running' AND o.owner = b.owner AND o.repo = b.repo
      AND o.branch = b.branch AND o.is_default_branch = 1))
ORDER BY (SELECT COUNT(*) FROM builds r WHERE r.state = 'running' AND r.installation_id = b.installation_id) ASC,
         b.created_at ASC
LIMIT 1`;

export class SqliteQueue implements Queue {
  private readonly sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.sql = sql;
  }

  async claim({ workerId, leaseMs, maxRunning, now = Date.now() }: ClaimOptions): Promise<BuildRecord | null> {
    return this.sql.transaction(() => {
      const db = this.sql;
      const running = Number((db.prepare("SELECT COUNT(*) AS n FROM builds WHERE state = 'running'").get() as Row).n);
      if (running >= maxRunning) return null;
      const row = db.prepare(NEXT_JOB).get() as Row | undefined;
      if (!row) return null;
      db.prepare(
        `UPDATE builds SET state = 'running', lease_owner = ?, lease_expires_at = ?, tries = tries + 1,
         started_at = COALESCE(started_at, ?) WHERE id = ? AND state = 'queued'`,
      ).run(workerId, now + leaseMs, now, String(row.id));
      return rowToBuild(db.prepare("SELECT * FROM builds WHERE id = ?").get(String(row.id)) as Row);
    });
  }

  async heartbeat(id: string, workerId: string, leaseMs: number, now: number = Date.now()): Promise<HeartbeatResult> {
    const db = this.sql;
    const r = db
      .prepare("UPDATE builds SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running'")
      .run(now + leaseMs, id, workerId);
    const row = db.prepare("SELECT cancel_requested FROM builds WHERE id = ?").get(id) as Row | undefined;
    return { held: r.changes === 1, cancelRequested: Number(row?.cancel_requested ?? 0) === 1 };
  }

  async recoverExpired(maxTries: number, now: number = Date.now(), own?: OwnLeases): Promise<{ requeued: BuildRecord[]; abandoned: BuildRecord[] }> {
    return this.sql.transaction(() => {
      const db = this.sql;
      const rows = db.prepare("SELECT * FROM builds WHERE state = 'running' AND lease_expires_at < ?").all(now) as Row[];
      const requeued: BuildRecord[] = [];
      const abandoned: BuildRecord[] = [];
      const mine = new Set(own?.buildIds ?? []);
      for (const build of rows.map(rowToBuild)) {
        // Still running here: a stall outlived the lease, not the worker. Requeueing it would
        // start a second copy, and its heartbeat would then abort this one.
        if (own && build.leaseOwner === own.workerId && mine.has(build.id)) {
          db.prepare("UPDATE builds SET lease_expires_at = ? WHERE id = ? AND lease_owner = ?").run(now + own.leaseMs, build.id, own.workerId);
          continue;
        }
        // A superseded build is not worth resuming: it is abandoned and concluded as cancelled.
        if (build.tries < maxTries && !build.cancelRequested) {
          db.prepare("UPDATE builds SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL WHERE id = ?").run(build.id);
          requeued.push({ ...build, state: "queued", leaseOwner: null, leaseExpiresAt: null });
        } else {
          // Leased to recovery for a minute: if concluding it fails, the next sweep finds it again.
          db.prepare("UPDATE builds SET lease_owner = 'recovery', lease_expires_at = ? WHERE id = ?").run(now + 60_000, build.id);
          abandoned.push(build);
        }
      }
      return { requeued, abandoned };
    });
  }

  async depth(): Promise<number> {
    return Number((this.sql.prepare("SELECT COUNT(*) AS n FROM builds WHERE state = 'queued'").get() as Row).n);
  }
}
