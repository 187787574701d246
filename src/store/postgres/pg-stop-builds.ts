import type { BuildRecord } from "../../core/build.ts";
import { rowToBuild } from "../sqlite/rows.ts";
import { CANCEL_CHANNEL, type Queryable } from "./pg-database.ts";

export interface StoppedBuilds {
  queued: BuildRecord[];
  running: BuildRecord[];
}

/**
 * Stops unfinished builds inside the caller's transaction, which has locked their rows (FOR
 * UPDATE), so their states are the ones committed last: queued ones end now as cancelled,
 * running ones are asked to stop. Each running one is also announced on CANCEL_CHANNEL, so the
 * replica running it stops at once instead of at its next heartbeat (sent at commit).
 */
export async function stopBuilds(q: Queryable, builds: readonly BuildRecord[], supersededBy: string | null, now: number): Promise<StoppedBuilds> {
  const stopped: StoppedBuilds = { queued: [], running: [] };
  for (const build of builds) {
    if (build.state === "queued") {
      const r = await q.query(
        `UPDATE builds SET state = 'completed', conclusion = 'cancelled', superseded_by = COALESCE($1, superseded_by), completed_at = $2
         WHERE id = $3 AND state = 'queued' RETURNING *`,
        [supersededBy, now, build.id],
      );
      if (r.rows[0]) stopped.queued.push(rowToBuild(r.rows[0]));
    } else if (build.state === "running") {
      const r = await q.query(
        "UPDATE builds SET cancel_requested = true, superseded_by = COALESCE($1, superseded_by) WHERE id = $2 AND state = 'running' RETURNING *",
        [supersededBy, build.id],
      );
      if (r.rows[0]) {
        stopped.running.push(rowToBuild(r.rows[0]));
        await q.query("SELECT pg_notify($1, $2)", [CANCEL_CHANNEL, build.id]);
      }
    }
  }
  return stopped;
}
