import type { BuildRecord } from "../../core/build.ts";
import type { SqliteDatabase } from "./sqlite-database.ts";
import { mustLoadBuild } from "./rows.ts";

export interface StoppedBuilds {
  queued: BuildRecord[];
  running: BuildRecord[];
}

/**
 * Stops unfinished builds inside the caller's transaction: queued ones end now as cancelled,
 * running ones are asked to stop (their worker sees it on its next heartbeat). `supersededBy`
 * is the build that replaces them, or null when nothing does (a closed PR).
 */
export function stopBuilds(sql: SqliteDatabase, builds: readonly BuildRecord[], supersededBy: string | null, now: number): StoppedBuilds {
  const stopped: StoppedBuilds = { queued: [], running: [] };
  for (const build of builds) {
    if (build.state === "queued") {
      sql
        .prepare(
          "UPDATE builds SET state = 'completed', conclusion = 'cancelled', superseded_by = COALESCE(?, superseded_by), completed_at = ? WHERE id = ? AND state = 'queued'",
        )
        .run(supersededBy, now, build.id);
      stopped.queued.push(mustLoadBuild(sql, build.id));
    } else if (build.state === "running") {
      sql.prepare("UPDATE builds SET cancel_requested = 1, superseded_by = COALESCE(?, superseded_by) WHERE id = ?").run(supersededBy, build.id);
      stopped.running.push(mustLoadBuild(sql, build.id));
    }
  }
  return stopped;
}
