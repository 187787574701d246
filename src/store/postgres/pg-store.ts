import type { BuildOutcome, BuildRecord } from "../../core/build.ts";
import type { BuildRequest, Conclusion, PullRequestRef } from "../../core/types.ts";
import type { LogLine } from "../../core/builder.ts";
import type { BuildListQuery, LogPage, LogTail, Store, SubmitResult } from "../../core/store.ts";
import { closedPullRequestStops } from "../../core/supersede.ts";
import { rowToBuild } from "../sqlite/rows.ts";
import { lockFor, WAKE_CHANNEL, type PgDatabase, type Row } from "./pg-database.ts";
import { latestForSha, repositoryLock, submitBuild } from "./pg-submit-build.ts";
import { stopBuilds } from "./pg-stop-builds.ts";
import { PgLogStore } from "./pg-log-store.ts";
import { listBuilds } from "./pg-list-builds.ts";

/** The Store on Postgres, for several replicas over one database (the schema: migrations.ts). */
export class PgStore implements Store {
  private readonly db: PgDatabase;
  private readonly logs: PgLogStore;

  constructor(db: PgDatabase) {
    this.db = db;
    this.logs = new PgLogStore(db);
  }

  submit(request: BuildRequest, now: number = Date.now()): Promise<SubmitResult> {
    return this.db.transaction((q) => submitBuild(q, request, now));
  }

  cancelPullRequest(owner: string, repo: string, prNumber: number, now: number = Date.now()): Promise<{ queued: BuildRecord[]; running: BuildRecord[] }> {
    return this.db.transaction(async (q) => {
      await lockFor(q, repositoryLock(owner, repo));
      const r = await q.query("SELECT * FROM builds WHERE owner = $1 AND repo = $2 AND pr_number = $3 AND state <> 'completed' ORDER BY created_at FOR UPDATE", [owner, repo, prNumber]);
      return stopBuilds(q, r.rows.map(rowToBuild).filter(closedPullRequestStops), null, now);
    });
  }

  listBuilds(query: BuildListQuery): Promise<BuildRecord[]> {
    return listBuilds(this.db, query);
  }

  cancelBuild(id: string, now: number = Date.now()): Promise<BuildRecord | null> {
    return this.db.transaction(async (q) => {
      const r = await q.query("SELECT * FROM builds WHERE id = $1 AND state <> 'completed' FOR UPDATE", [id]);
      if (!r.rows[0]) return null;
      const { queued, running } = await stopBuilds(q, [rowToBuild(r.rows[0])], null, now);
      return queued[0] ?? running[0] ?? null;
    });
  }

  async recordDelivery(deliveryId: string, event: string): Promise<boolean> {
    const r = await this.db.query("INSERT INTO deliveries (id, event, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING", [deliveryId, event, Date.now()]);
    return r.rowCount === 1;
  }

  async getBuild(id: string): Promise<BuildRecord | null> {
    const r = await this.db.query("SELECT * FROM builds WHERE id = $1", [id]);
    return r.rows[0] ? rowToBuild(r.rows[0]) : null;
  }

  latestBuildForSha(owner: string, repo: string, sha: string, trusted: boolean): Promise<BuildRecord | null> {
    return latestForSha(this.db, owner, repo, sha, trusted);
  }

  async buildsWithoutCheckRun(limit: number): Promise<BuildRecord[]> {
    const r = await this.db.query("SELECT * FROM builds WHERE check_run_id IS NULL AND state <> 'completed' ORDER BY created_at LIMIT $1", [limit]);
    return r.rows.map(rowToBuild);
  }

  async setCheckRunId(id: string, checkRunId: number): Promise<number> {
    const { rows } = await this.db.query("UPDATE builds SET check_run_id = COALESCE(check_run_id, $1) WHERE id = $2 RETURNING check_run_id", [checkRunId, id]);
    return rows[0] ? Number(rows[0].check_run_id) : checkRunId;
  }

  async setAppCheckRun(id: string, app: string, checkRunId: number): Promise<void> {
    await this.db.query(
      "INSERT INTO app_check_runs (build_id, app, check_run_id) VALUES ($1, $2, $3) ON CONFLICT (build_id, app) DO UPDATE SET check_run_id = excluded.check_run_id, completed = false",
      [id, app, checkRunId],
    );
  }

  async markAppCheckRunCompleted(id: string, app: string): Promise<void> {
    await this.db.query("UPDATE app_check_runs SET completed = true WHERE build_id = $1 AND app = $2", [id, app]);
  }

  async openAppCheckRuns(id: string): Promise<{ app: string; checkRunId: number }[]> {
    const r = await this.db.query("SELECT app, check_run_id FROM app_check_runs WHERE build_id = $1 AND NOT completed ORDER BY app COLLATE \"C\"", [id]);
    return r.rows.map((row: Row) => ({ app: String(row.app), checkRunId: Number(row.check_run_id) }));
  }

  async complete(id: string, conclusion: Conclusion, outcome: BuildOutcome, now: number = Date.now()): Promise<boolean> {
    // One statement: a build cancelled while queued is 'completed' without an outcome, and the
    // reporter still owes it one; any other completed build is left alone.
    const r = await this.db.query(
      `UPDATE builds SET state = 'completed', conclusion = $1, outcome = $2, completed_at = COALESCE(completed_at, $3), lease_owner = NULL, lease_expires_at = NULL
       WHERE id = $4 AND (state <> 'completed' OR outcome IS NULL)`,
      [conclusion, JSON.stringify(outcome), now, id],
    );
    // A slot is free: workers on other replicas that found maxRunning reached may claim now.
    if (r.rowCount === 1) await this.db.query("SELECT pg_notify($1, '')", [WAKE_CHANNEL]);
    return r.rowCount === 1;
  }

  async prForSha(owner: string, repo: string, sha: string): Promise<PullRequestRef | null> {
    const r = await this.db.query("SELECT pr FROM sha_prs WHERE owner = $1 AND repo = $2 AND sha = $3", [owner, repo, sha]);
    return r.rows[0] ? (JSON.parse(String(r.rows[0].pr)) as PullRequestRef) : null;
  }

  setCommitMessage(id: string, message: string): Promise<void> {
    // Read and written in JS under the row's lock: the request is JSON text that jsonb would refuse (a \u0000),
    // and a PR attaching itself to the build (submit) waits for this, so it keeps what this wrote or this what it did.
    return this.db.transaction(async (q) => {
      const r = await q.query("SELECT request FROM builds WHERE id = $1 FOR UPDATE", [id]);
      const request = r.rows[0] ? (JSON.parse(String(r.rows[0].request)) as BuildRequest) : null;
      if (!request || request.commitMessage) return;
      await q.query("UPDATE builds SET request = $1 WHERE id = $2", [JSON.stringify({ ...request, commitMessage: message }), id]);
    });
  }

  appendLog(id: string, lines: LogLine[], now?: number): Promise<void> {
    return this.logs.appendLog(id, lines, now);
  }

  readLog(id: string): Promise<LogLine[]> {
    return this.logs.readLog(id);
  }

  readLogPage(id: string, afterSeq: number, maxBytes: number): Promise<LogPage | null> {
    return this.logs.readLogPage(id, afterSeq, maxBytes);
  }

  logTail(id: string, maxBytes: number): Promise<LogTail> {
    return this.logs.logTail(id, maxBytes);
  }

  deleteLogsBefore(time: number, limit: number): Promise<number> {
    return this.logs.deleteLogsBefore(time, limit);
  }

  async countByState(): Promise<Record<string, number>> {
    const r = await this.db.query("SELECT state, COUNT(*) AS n FROM builds GROUP BY state");
    return Object.fromEntries(r.rows.map((row: Row) => [String(row.state), Number(row.n)]));
  }

  withBuildLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.db.withLock(`microship:build:${id}`, fn);
  }

  tryLock(name: string): Promise<(() => Promise<void>) | null> {
    return this.db.tryLock(name);
  }

  async ping(): Promise<void> {
    await this.db.query("SELECT 1");
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
