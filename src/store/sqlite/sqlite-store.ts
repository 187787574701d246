import type { BuildOutcome, BuildRecord } from "../../core/build.ts";
import type { BuildRequest, Conclusion, PullRequestRef } from "../../core/types.ts";
import type { LogLine } from "../../core/builder.ts";
import type { BuildListQuery, LogPage, LogTail, Store, SubmitResult } from "../../core/store.ts";
import { closedPullRequestStops } from "../../core/supersede.ts";
import type { SqliteDatabase } from "./sqlite-database.ts";
import { loadBuild, rowToBuild, type Row } from "./rows.ts";
import { latestForSha, submitBuild } from "./submit-build.ts";
import { stopBuilds } from "./stop-builds.ts";
import { SqliteLogStore } from "./sqlite-log-store.ts";
import { listBuilds } from "./list-builds.ts";

export class SqliteStore implements Store {
  private readonly sql: SqliteDatabase;
  private readonly logs: SqliteLogStore;

  constructor(sql: SqliteDatabase) {
    this.sql = sql;
    this.logs = new SqliteLogStore(sql);
  }

  private get db() {
    return this.sql;
  }

  async submit(request: BuildRequest, now: number = Date.now()): Promise<SubmitResult> {
    return this.sql.transaction(() => submitBuild(this.sql, request, now));
  }

  async cancelPullRequest(owner: string, repo: string, prNumber: number, now: number = Date.now()): Promise<{ queued: BuildRecord[]; running: BuildRecord[] }> {
    return this.sql.transaction(() => {
      const rows = this.db
        .prepare("SELECT * FROM builds WHERE owner = ? AND repo = ? AND pr_number = ? AND state != 'completed' ORDER BY created_at")
        .all(owner, repo, prNumber) as Row[];
      return stopBuilds(this.sql, rows.map(rowToBuild).filter(closedPullRequestStops), null, now);
    });
  }

  async recordDelivery(deliveryId: string, event: string): Promise<boolean> {
    const r = this.db
      .prepare("INSERT INTO deliveries (id, event, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
      .run(deliveryId, event, Date.now());
    return r.changes === 1;
  }

  async getBuild(id: string): Promise<BuildRecord | null> {
    return loadBuild(this.sql, id);
  }

  async latestBuildForSha(owner: string, repo: string, sha: string, trusted: boolean): Promise<BuildRecord | null> {
    return latestForSha(this.sql, owner, repo, sha, trusted);
  }

  async buildsWithoutCheckRun(limit: number): Promise<BuildRecord[]> {
    const rows = this.db
      .prepare("SELECT * FROM builds WHERE check_run_id IS NULL AND state != 'completed' ORDER BY created_at LIMIT ?")
      .all(limit) as Row[];
    return rows.map(rowToBuild);
  }

  async setCheckRunId(id: string, checkRunId: number): Promise<number> {
    const row = this.db.prepare("UPDATE builds SET check_run_id = COALESCE(check_run_id, ?) WHERE id = ? RETURNING check_run_id").get(checkRunId, id) as { check_run_id: number } | undefined;
    return row ? Number(row.check_run_id) : checkRunId;
  }

  async setAppCheckRun(id: string, app: string, checkRunId: number): Promise<void> {
    this.db
      .prepare("INSERT INTO app_check_runs (build_id, app, check_run_id) VALUES (?, ?, ?) ON CONFLICT (build_id, app) DO UPDATE SET check_run_id = excluded.check_run_id, completed = 0")
      .run(id, app, checkRunId);
  }

  async markAppCheckRunCompleted(id: string, app: string): Promise<void> {
    this.db.prepare("UPDATE app_check_runs SET completed = 1 WHERE build_id = ? AND app = ?").run(id, app);
  }

  async openAppCheckRuns(id: string): Promise<{ app: string; checkRunId: number }[]> {
    const rows = this.db.prepare("SELECT app, check_run_id FROM app_check_runs WHERE build_id = ? AND completed = 0 ORDER BY app").all(id) as Row[];
    return rows.map((r) => ({ app: String(r.app), checkRunId: Number(r.check_run_id) }));
  }

  async complete(id: string, conclusion: Conclusion, outcome: BuildOutcome, now: number = Date.now()): Promise<boolean> {
    return this.sql.transaction(() => {
      const row = this.db.prepare("SELECT state, outcome FROM builds WHERE id = ?").get(id) as Row | undefined;
      if (!row) return false;
      // A build cancelled while queued is 'completed' without an outcome: the reporter still owes it one.
      if (row.state === "completed" && row.outcome != null) return false;
      this.db
        .prepare(
          "UPDATE builds SET state = 'completed', conclusion = ?, outcome = ?, completed_at = COALESCE(completed_at, ?), lease_owner = NULL, lease_expires_at = NULL WHERE id = ?",
        )
        .run(conclusion, JSON.stringify(outcome), now, id);
      return true;
    });
  }

  async prForSha(owner: string, repo: string, sha: string): Promise<PullRequestRef | null> {
    const row = this.db.prepare("SELECT pr FROM sha_prs WHERE owner = ? AND repo = ? AND sha = ?").get(owner, repo, sha) as Row | undefined;
    return row ? (JSON.parse(String(row.pr)) as PullRequestRef) : null;
  }

  async setCommitMessage(id: string, message: string): Promise<void> {
    // One statement: a PR attaching itself to the build (submit) can't interleave and lose either.
    this.db
      .prepare("UPDATE builds SET request = json_set(request, '$.commitMessage', ?) WHERE id = ? AND COALESCE(json_extract(request, '$.commitMessage'), '') = ''")
      .run(message, id);
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
    const rows = this.db.prepare("SELECT state, COUNT(*) AS n FROM builds GROUP BY state").all() as Row[];
    return Object.fromEntries(rows.map((r) => [String(r.state), Number(r.n)]));
  }

  async listBuilds(query: BuildListQuery): Promise<BuildRecord[]> {
    return listBuilds(this.sql, query);
  }

  async cancelBuild(id: string, now: number = Date.now()): Promise<BuildRecord | null> {
    return this.sql.transaction(() => {
      const build = loadBuild(this.sql, id);
      if (!build || build.state === "completed") return null;
      const { queued, running } = stopBuilds(this.sql, [build], null, now);
      return queued[0] ?? running[0] ?? null;
    });
  }

  async ping(): Promise<void> {
    this.db.prepare("SELECT 1").get();
  }

  async close(): Promise<void> {
    this.sql.close();
  }
}
