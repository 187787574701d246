import type { Queryable } from "../../store/postgres/pg-database.ts";

/**
 * Cache affinity for the Postgres queue (core/queue.ts). Each replica's builder keeps its layer
 * cache on its own host, so a scope built again on the host that built it last starts warm.
 */

/** A build row's cache scope, as core/stages/build.ts computes it (`untrusted` is a fork PR's build). */
const SCOPE_OF_B = `(b.owner || '/' || b.repo || CASE WHEN b.untrusted AND b.pr_number IS NOT NULL THEN '/pr-' || b.pr_number ELSE '' END)`;

export const DEFAULT_AFFINITY_MS = 3_000;

/**
 * A NEXT_JOB condition on `b`, with $1 the host, $2 now, $3 the window: a build whose scope last
 * ran on another host waits out its window first. The window counts from createdAt: a build
 * requeued by recovery or one that waited longer in the queue goes to anyone at once.
 */
export const AFFINITY_FILTER = `
  AND ($3::bigint <= 0 OR b.created_at + $3::bigint <= $2::bigint OR NOT EXISTS (
    SELECT 1 FROM scope_hosts s WHERE s.scope = ${SCOPE_OF_B} AND s.host_id <> $1::text))`;

/** In the claim's transaction: the claimed build's scope last ran on `hostId`. */
export async function recordScopeHost(q: Queryable, buildId: string, hostId: string, now: number): Promise<void> {
  await q.query(
    `INSERT INTO scope_hosts (scope, host_id, claimed_at) SELECT ${SCOPE_OF_B}, $2, $3 FROM builds b WHERE b.id = $1
     ON CONFLICT (scope) DO UPDATE SET host_id = EXCLUDED.host_id, claimed_at = EXCLUDED.claimed_at`,
    [buildId, hostId, now],
  );
}
