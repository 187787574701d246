import { randomUUID } from "node:crypto";
import type { BuildRecord } from "../../core/build.ts";
import type { BuildRequest } from "../../core/types.ts";
import type { SubmitResult } from "../../core/store.ts";
import { isTrusted } from "../../core/trust.ts";
import { isDefaultBranchBuild, supersedes } from "../../core/supersede.ts";
import type { SqliteDatabase } from "./sqlite-database.ts";
import { mustLoadBuild, rowToBuild, type Row } from "./rows.ts";
import { stopBuilds, type StoppedBuilds } from "./stop-builds.ts";

/** The stored request's trust level, so no column (and no migration) is needed; see core/trust.ts. */
const UNTRUSTED = "COALESCE(json_extract(request, '$.pr.fork'), 0)";

/** The latest build of a sha at one trust level. */
export function latestForSha(sql: SqliteDatabase, owner: string, repo: string, sha: string, trusted: boolean): BuildRecord | null {
  const row = sql
    .prepare(`SELECT * FROM builds WHERE owner = ? AND repo = ? AND sha = ? AND ${UNTRUSTED} = ? ORDER BY attempt DESC LIMIT 1`)
    .get(owner, repo, sha, trusted ? 0 : 1) as Row | undefined;
  return row ? rowToBuild(row) : null;
}

/** Store.submit's transaction: the caller runs it inside one. */
export function submitBuild(sql: SqliteDatabase, request: BuildRequest, now: number): SubmitResult {
  const seen = sql
    .prepare("INSERT INTO deliveries (id, event, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
    .run(request.deliveryId, request.trigger, now);
  if (seen.changes === 0) return { kind: "duplicate-delivery" };

  const { owner, repo, sha } = request;
  if (request.pr) {
    sql
      .prepare("INSERT INTO sha_prs (owner, repo, sha, pr) VALUES (?, ?, ?, ?) ON CONFLICT (owner, repo, sha) DO UPDATE SET pr = excluded.pr")
      .run(owner, repo, sha, JSON.stringify(request.pr));
  }
  const latest = latestForSha(sql, owner, repo, sha, isTrusted(request));
  if (latest && !request.rerun) return shareBuild(sql, request, latest);

  const id = randomUUID();
  // Attempts count across both trust levels: (owner, repo, sha, attempt) is unique.
  const attempt = Number((sql.prepare("SELECT COALESCE(MAX(attempt), -1) + 1 AS n FROM builds WHERE owner = ? AND repo = ? AND sha = ?").get(owner, repo, sha) as Row).n);
  sql
    .prepare(
      `INSERT INTO builds (id, installation_id, owner, repo, sha, attempt, branch, pr_number, is_default_branch, request, state, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
    )
    .run(id, request.installationId, owner, repo, sha, attempt, request.branch, request.pr?.number ?? null, isDefaultBranchBuild(request) ? 1 : 0, JSON.stringify(request), now);
  sql.prepare("UPDATE deliveries SET build_id = ? WHERE id = ?").run(id, request.deliveryId);

  const { queued, running } = supersede(sql, request, id, now);
  return { kind: "created", build: mustLoadBuild(sql, id), supersededQueued: queued, supersededRunning: running };
}

function shareBuild(sql: SqliteDatabase, request: BuildRequest, latest: BuildRecord): SubmitResult {
  // push and pull_request.synchronize of one sha share a build; the PR learns of it here.
  if (request.pr && !latest.request.pr) {
    const merged: BuildRequest = { ...latest.request, pr: request.pr, fetchRef: latest.request.fetchRef ?? request.fetchRef };
    sql.prepare("UPDATE builds SET request = ?, pr_number = ? WHERE id = ?").run(JSON.stringify(merged), request.pr.number, latest.id);
    latest.request = merged;
  }
  sql.prepare("UPDATE deliveries SET build_id = ? WHERE id = ?").run(latest.id, request.deliveryId);
  return { kind: "existing", build: latest };
}

/** The candidates are narrowed here for the indexes; core/supersede.ts decides. */
function supersede(sql: SqliteDatabase, request: BuildRequest, newId: string, now: number): StoppedBuilds {
  if (isDefaultBranchBuild(request) || (!request.pr && request.branch === null)) return { queued: [], running: [] };
  const rows = (
    request.pr
      ? sql.prepare("SELECT * FROM builds WHERE owner = ? AND repo = ? AND pr_number = ? AND state != 'completed' ORDER BY created_at").all(request.owner, request.repo, request.pr.number)
      : sql.prepare("SELECT * FROM builds WHERE owner = ? AND repo = ? AND branch = ? AND state != 'completed' ORDER BY created_at").all(request.owner, request.repo, request.branch)
  ) as Row[];
  const candidates = rows.map((row) => ({ build: rowToBuild(row), defaultBranch: Number(row.is_default_branch) === 1 }));
  const superseded = candidates.filter((candidate) => supersedes(request, newId, candidate)).map((candidate) => candidate.build);
  return stopBuilds(sql, superseded, newId, now);
}
