import type { BuildRecord } from "../../core/build.ts";
import type { ClaimOptions, HeartbeatResult, OwnLeases, Queue } from "../../core/queue.ts";
import { lockFor, WAKE_CHANNEL, type PgDatabase, type Queryable } from "../../store/postgres/pg-database.ts";
import { rowToBuild } from "../../store/sqlite/rows.ts";
import { AFFINITY_FILTER, DEFAULT_AFFINITY_MS, recordScopeHost } from "./scope-affinity.ts";

/*
 * Why this queue is built on Postgres itself and not on pg-boss. The claim order of core/queue.ts
 * is a property of the builds table, not of a job list: "the installation with the fewest running
 * builds first" changes with every claim and completion (pg-boss orders by a priority fixed when a
 * job is sent); maxRunning caps the running builds of all workers (pg-boss caps each worker's own
 * concurrency, its groupConcurrency caps a group but does not order by it); a default-branch build
 * waits only for a running build of its branch while others of the repository go ahead (a
 * singleton policy is per queue, and every build would need its own). The contract also sets the
 * clock (`now`) and recovery's requeue-then-abandon rule, where pg-boss reads the server's clock
 * and retries or fails expired jobs on its own schedule. A pg-boss job beside each build row would
 * be a second copy of the state to keep in step, inside the same transactions. So the builds
 * table is the queue, as in SQLite: build rows are written in the submit's one transaction, a
 * transaction-scoped advisory lock makes claims take turns (SKIP LOCKED lets claimers pass each
 * other's rows but cannot keep a count over rows), FOR UPDATE SKIP LOCKED lets recovery sweeps on
 * several replicas split the lapsed builds, and NOTIFY wakes idle workers anywhere.
 */

const CLAIM_LOCK = "microship:claim";

// The order core/queue.ts states, in one query so a claim never reads the whole queue. A row a
// submit is superseding right now is locked: skipped, as it is about to end. Affinity only
// leaves builds out; the order of the rest stays the contract's.
const nextJob = (affinity: string) => `
SELECT b.id FROM builds b
WHERE b.state = 'queued'
  AND NOT (b.is_default_branch AND EXISTS (
    SELECT 1 FROM builds o WHERE o.state = 'running' AND o.owner = b.owner AND o.repo = b.repo
      AND o.branch = b.branch AND o.is_default_branch))${affinity}
ORDER BY (SELECT COUNT(*) FROM builds r WHERE r.state = 'running' AND r.installation_id = b.installation_id) ASC,
         b.created_at ASC
LIMIT 1
FOR UPDATE OF b SKIP LOCKED`;
const NEXT_JOB = nextJob("");
const NEXT_JOB_WITH_AFFINITY = nextJob(AFFINITY_FILTER);

export class PgQueue implements Queue {
  private readonly db: PgDatabase;

  constructor(db: PgDatabase) {
    this.db = db;
  }

  claim({ workerId, leaseMs, maxRunning, now = Date.now(), hostId, affinityMs = DEFAULT_AFFINITY_MS }: ClaimOptions): Promise<BuildRecord | null> {
    return this.db.transaction(async (q) => {
      // Claims take turns across replicas; the count below is read after the lock, so it
      // includes the claim that held it last.
      await lockFor(q, CLAIM_LOCK);
      const running = Number((await q.query("SELECT COUNT(*) AS n FROM builds WHERE state = 'running'")).rows[0]!.n);
      if (running >= maxRunning) return null;
      const next = (hostId === undefined ? await q.query(NEXT_JOB) : await q.query(NEXT_JOB_WITH_AFFINITY, [hostId, now, affinityMs])).rows[0];
      if (!next) return null;
      const r = await q.query(
        `UPDATE builds SET state = 'running', lease_owner = $1, lease_expires_at = $2, tries = tries + 1,
         started_at = COALESCE(started_at, $3) WHERE id = $4 AND state = 'queued' RETURNING *`,
        [workerId, now + leaseMs, now, String(next.id)],
      );
      if (!r.rows[0]) return null;
      if (hostId !== undefined) await recordScopeHost(q, String(next.id), hostId, now);
      return rowToBuild(r.rows[0]);
    });
  }

  async heartbeat(id: string, workerId: string, leaseMs: number, now: number = Date.now()): Promise<HeartbeatResult> {
    const r = await this.db.query(
      `WITH renewed AS (
         UPDATE builds SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running' RETURNING cancel_requested)
       SELECT (SELECT COUNT(*) FROM renewed) AS held, (SELECT cancel_requested FROM builds WHERE id = $2) AS cancel`,
      [now + leaseMs, id, workerId],
    );
    const row = r.rows[0]!;
    return { held: Number(row.held) === 1, cancelRequested: row.cancel === true };
  }

  recoverExpired(maxTries: number, now: number = Date.now(), own?: OwnLeases): Promise<{ requeued: BuildRecord[]; abandoned: BuildRecord[] }> {
    return this.db.transaction(async (q) => {
      // SKIP LOCKED: a lapsed build another replica's sweep holds is that sweep's to hand out.
      const rows = (await q.query("SELECT * FROM builds WHERE state = 'running' AND lease_expires_at < $1 ORDER BY created_at FOR UPDATE SKIP LOCKED", [now])).rows;
      const requeued: BuildRecord[] = [];
      const abandoned: BuildRecord[] = [];
      const mine = new Set(own?.buildIds ?? []);
      for (const build of rows.map(rowToBuild)) {
        // Still running here: a stall outlived the lease, not the worker. Requeueing it would
        // start a second copy, and its heartbeat would then abort this one.
        if (own && build.leaseOwner === own.workerId && mine.has(build.id)) {
          await q.query("UPDATE builds SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3", [now + own.leaseMs, build.id, own.workerId]);
          continue;
        }
        // A superseded build is not worth resuming: it is abandoned and concluded as cancelled.
        if (build.tries < maxTries && !build.cancelRequested) {
          await q.query("UPDATE builds SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL WHERE id = $1", [build.id]);
          requeued.push({ ...build, state: "queued", leaseOwner: null, leaseExpiresAt: null });
        } else {
          // Leased to recovery for a minute: if concluding it fails, the next sweep finds it again.
          await q.query("UPDATE builds SET lease_owner = 'recovery', lease_expires_at = $1 WHERE id = $2", [now + 60_000, build.id]);
          abandoned.push(build);
        }
      }
      if (requeued.length > 0) await notifyWake(q);
      return { requeued, abandoned };
    });
  }

  async depth(): Promise<number> {
    return Number((await this.db.query("SELECT COUNT(*) AS n FROM builds WHERE state = 'queued'")).rows[0]!.n);
  }
}

async function notifyWake(q: Queryable): Promise<void> {
  await q.query("SELECT pg_notify($1, '')", [WAKE_CHANNEL]);
}
