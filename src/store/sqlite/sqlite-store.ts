import { randomUUID } from "node:crypto";
import type { BuildOutcome, BuildRecord } from "../../core/build.ts";
import type { BuildRequest, Conclusion, PullRequestRef } from "../../core/types.ts";
import type { LogLine } from "../../core/builder.ts";
import type { LogPage, LogTail, Store, SubmitResult } from "../../core/store.ts";
import type { SqliteDatabase } from "./sqlite-database.ts";
import { rowToBuild, type Row } from "./rows.ts";
import { isTrusted } from "../../core/trust.ts";

/** The stored request's trust level, so no column (and no migration) is needed; see core/trust.ts. */
const UNTRUSTED = "COALESCE(json_extract(request, '$.pr.fork'), 0)";

export class SqliteStore implements Store {
  private readonly sql: SqliteDatabase;

  constructor(sql: SqliteDatabase) {
    this.sql = sql;
  }

  private get db() {
    return this.sql;
  }

  async submit(request: BuildRequest, now: number = Date.now()): Promise<SubmitResult> {
    return this.sql.transaction((): SubmitResult => {
      const seen = this.db
        .prepare("INSERT INTO deliveries (id, event, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
        .run(request.deliveryId, request.trigger, now);
      if (seen.changes === 0) return { kind: "duplicate-delivery" };

      const { owner, repo, sha } = request;
      if (request.pr) {
        this.db
          .prepare("INSERT INTO sha_prs (owner, repo, sha, pr) VALUES (?, ?, ?, ?) ON CONFLICT (owner, repo, sha) DO UPDATE SET pr = excluded.pr")
          .run(owner, repo, sha, JSON.stringify(request.pr));
      }
      const latest = this.latestForSha(owner, repo, sha, isTrusted(request));
      if (latest && !request.rerun) {
        // push and pull_request.synchronize of one sha share a build; the PR learns of it here.
        if (request.pr && !latest.request.pr) {
          const merged: BuildRequest = { ...latest.request, pr: request.pr, fetchRef: latest.request.fetchRef ?? request.fetchRef };
          this.db.prepare("UPDATE builds SET request = ?, pr_number = ? WHERE id = ?").run(JSON.stringify(merged), request.pr.number, latest.id);
          latest.request = merged;
        }
        this.db.prepare("UPDATE deliveries SET build_id = ? WHERE id = ?").run(latest.id, request.deliveryId);
        return { kind: "existing", build: latest };
      }

      const id = randomUUID();
      // Attempts count across both trust levels: (owner, repo, sha, attempt) is unique.
      const attempt = Number((this.db.prepare("SELECT COALESCE(MAX(attempt), -1) + 1 AS n FROM builds WHERE owner = ? AND repo = ? AND sha = ?").get(owner, repo, sha) as Row).n);
      const isDefault = request.pr === null && request.branch === request.defaultBranch;
      this.db
        .prepare(
          `INSERT INTO builds (id, installation_id, owner, repo, sha, attempt, branch, pr_number, is_default_branch, request, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
        )
        .run(id, request.installationId, owner, repo, sha, attempt, request.branch, request.pr?.number ?? null, isDefault ? 1 : 0, JSON.stringify(request), now);
      this.db.prepare("UPDATE deliveries SET build_id = ? WHERE id = ?").run(id, request.deliveryId);

      const { queued, running } = isDefault ? { queued: [], running: [] } : this.supersede(request, id, now);
      return { kind: "created", build: this.mustGet(id), supersededQueued: queued, supersededRunning: running };
    });
  }

  /** Older unfinished builds of the same PR (or, for pushes, the same branch) give way to this one. */
  private supersede(request: BuildRequest, newId: string, now: number): { queued: BuildRecord[]; running: BuildRecord[] } {
    const rows = (
      request.pr
        ? this.db
            .prepare("SELECT * FROM builds WHERE owner = ? AND repo = ? AND pr_number = ? AND state != 'completed' AND id != ? AND sha != ?")
            .all(request.owner, request.repo, request.pr.number, newId, request.sha)
        : this.db
            .prepare(
              "SELECT * FROM builds WHERE owner = ? AND repo = ? AND branch = ? AND is_default_branch = 0 AND state != 'completed' AND id != ? AND sha != ?",
            )
            .all(request.owner, request.repo, request.branch, newId, request.sha)
    ) as Row[];
    const queued: BuildRecord[] = [];
    const running: BuildRecord[] = [];
    for (const build of rows.map(rowToBuild)) {
      // A fork's branch name says nothing about the base repo's branches.
      if (!request.pr && build.request.pr?.fork) continue;
      if (build.state === "queued") {
        this.db
          .prepare("UPDATE builds SET state = 'completed', conclusion = 'cancelled', superseded_by = ?, completed_at = ? WHERE id = ? AND state = 'queued'")
          .run(newId, now, build.id);
        queued.push(this.mustGet(build.id));
      } else {
        this.db.prepare("UPDATE builds SET cancel_requested = 1, superseded_by = ? WHERE id = ?").run(newId, build.id);
        running.push(this.mustGet(build.id));
      }
    }
    return { queued, running };
  }

  async cancelPullRequest(owner: string, repo: string, prNumber: number, now: number = Date.now()): Promise<{ queued: BuildRecord[]; running: BuildRecord[] }> {
    return this.sql.transaction(() => {
      const rows = this.db
        .prepare("SELECT * FROM builds WHERE owner = ? AND repo = ? AND pr_number = ? AND state != 'completed'")
        .all(owner, repo, prNumber) as Row[];
      const queued: BuildRecord[] = [];
      const running: BuildRecord[] = [];
      for (const build of rows.map(rowToBuild)) {
        // A push to a branch shares the build with its PR: that build still serves the branch.
        if (build.request.branch && !build.request.pr?.fork && build.request.trigger === "push") continue;
        if (build.state === "queued") {
          this.db.prepare("UPDATE builds SET state = 'completed', conclusion = 'cancelled', completed_at = ? WHERE id = ?").run(now, build.id);
          queued.push(this.mustGet(build.id));
        } else {
          this.db.prepare("UPDATE builds SET cancel_requested = 1 WHERE id = ?").run(build.id);
          running.push(this.mustGet(build.id));
        }
      }
      return { queued, running };
    });
  }

  async recordDelivery(deliveryId: string, event: string): Promise<boolean> {
    const r = this.db
      .prepare("INSERT INTO deliveries (id, event, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
      .run(deliveryId, event, Date.now());
    return r.changes === 1;
  }

  async getBuild(id: string): Promise<BuildRecord | null> {
    const row = this.db.prepare("SELECT * FROM builds WHERE id = ?").get(id) as Row | undefined;
    return row ? rowToBuild(row) : null;
  }

  async latestBuildForSha(owner: string, repo: string, sha: string, trusted: boolean): Promise<BuildRecord | null> {
    return this.latestForSha(owner, repo, sha, trusted);
  }

  private latestForSha(owner: string, repo: string, sha: string, trusted: boolean): BuildRecord | null {
    const row = this.db
      .prepare(`SELECT * FROM builds WHERE owner = ? AND repo = ? AND sha = ? AND ${UNTRUSTED} = ? ORDER BY attempt DESC LIMIT 1`)
      .get(owner, repo, sha, trusted ? 0 : 1) as Row | undefined;
    return row ? rowToBuild(row) : null;
  }

  private mustGet(id: string): BuildRecord {
    const row = this.db.prepare("SELECT * FROM builds WHERE id = ?").get(id) as Row | undefined;
    if (!row) throw new Error(`build ${id} vanished`);
    return rowToBuild(row);
  }

  async buildsWithoutCheckRun(limit: number): Promise<BuildRecord[]> {
    const rows = this.db
      .prepare("SELECT * FROM builds WHERE check_run_id IS NULL AND state != 'completed' ORDER BY created_at LIMIT ?")
      .all(limit) as Row[];
    return rows.map(rowToBuild);
  }

  async setCheckRunId(id: string, checkRunId: number): Promise<void> {
    this.db.prepare("UPDATE builds SET check_run_id = ? WHERE id = ?").run(checkRunId, id);
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

  async appendLog(id: string, lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    this.db
      .prepare("INSERT INTO log_chunks (build_id, seq, lines) VALUES (?, (SELECT COALESCE(MAX(seq), -1) + 1 FROM log_chunks WHERE build_id = ?), ?)")
      .run(id, id, JSON.stringify(lines));
  }

  async readLog(id: string): Promise<LogLine[]> {
    const rows = this.db.prepare("SELECT lines FROM log_chunks WHERE build_id = ? ORDER BY seq").all(id) as Row[];
    return rows.flatMap((r) => JSON.parse(String(r.lines)) as LogLine[]);
  }

  async readLogPage(id: string, afterSeq: number, maxBytes: number): Promise<LogPage | null> {
    // octet_length reads a value's size from its header, not its content: cheap even for big chunks.
    const sizes = this.db
      .prepare("SELECT seq, octet_length(lines) AS n FROM log_chunks WHERE build_id = ? AND seq > ? ORDER BY seq LIMIT 256")
      .all(id, afterSeq) as Row[];
    if (sizes.length === 0) return null;
    let lastSeq = Number(sizes[0]!.seq);
    let bytes = Number(sizes[0]!.n);
    for (const row of sizes.slice(1)) {
      bytes += Number(row.n);
      if (bytes > maxBytes) break;
      lastSeq = Number(row.seq);
    }
    // SQLite splits each chunk into its lines, so JavaScript never holds a chunk's whole text: a
    // string that big lives until a full collection, and a long log's pages would pile up in RSS.
    const rows = this.db
      .prepare("SELECT j.value AS line FROM log_chunks c, json_each(c.lines) j WHERE c.build_id = ? AND c.seq > ? AND c.seq <= ? ORDER BY c.seq, j.key")
      .all(id, afterSeq, lastSeq) as Row[];
    return { lastSeq, lines: rows.map((r) => JSON.parse(String(r.line)) as LogLine) };
  }

  async logTail(id: string, maxBytes: number): Promise<LogTail> {
    const sizes = this.db.prepare("SELECT seq, octet_length(lines) AS n FROM log_chunks WHERE build_id = ? ORDER BY seq DESC").all(id) as Row[];
    let totalBytes = 0;
    let shown = 0;
    let afterSeq = -1;
    let full = false;
    for (const row of sizes) {
      const n = Number(row.n);
      totalBytes += n;
      if (full) continue;
      // The newest chunk is always shown; older ones while they fit.
      if (shown > 0 && shown + n > maxBytes) {
        afterSeq = Number(row.seq);
        full = true;
      } else shown += n;
    }
    return { afterSeq, totalBytes, skippedBytes: totalBytes - shown };
  }

  async deleteLogsBefore(time: number, limit: number): Promise<number> {
    const result = this.db
      .prepare(
        `DELETE FROM log_chunks WHERE rowid IN (
           SELECT c.rowid FROM builds b JOIN log_chunks c ON c.build_id = b.id
           WHERE b.state = 'completed' AND b.completed_at < ? LIMIT ?)`,
      )
      .run(time, limit);
    return Number(result.changes);
  }

  async countByState(): Promise<Record<string, number>> {
    const rows = this.db.prepare("SELECT state, COUNT(*) AS n FROM builds GROUP BY state").all() as Row[];
    return Object.fromEntries(rows.map((r) => [String(r.state), Number(r.n)]));
  }

  async ping(): Promise<void> {
    this.db.prepare("SELECT 1").get();
  }

  async close(): Promise<void> {
    this.sql.close();
  }
}
