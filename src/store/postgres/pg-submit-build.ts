import { randomUUID } from "node:crypto";
import type { BuildRecord } from "../../core/build.ts";
import type { BuildRequest } from "../../core/types.ts";
import type { SubmitResult } from "../../core/store.ts";
import { isTrusted } from "../../core/trust.ts";
import { isDefaultBranchBuild, supersedes } from "../../core/supersede.ts";
import { rowToBuild } from "../sqlite/rows.ts";
import { lockFor, WAKE_CHANNEL, type Queryable, type Row } from "./pg-database.ts";
import { stopBuilds, type StoppedBuilds } from "./pg-stop-builds.ts";

/** The advisory lock every write that reads a repository's builds to decide takes (submit, closing a PR). */
export const repositoryLock = (owner: string, repo: string) => `microship:repo:${owner}/${repo}`;

/** The latest build of a sha at one trust level. */
export async function latestForSha(q: Queryable, owner: string, repo: string, sha: string, trusted: boolean): Promise<BuildRecord | null> {
  const r = await q.query("SELECT * FROM builds WHERE owner = $1 AND repo = $2 AND sha = $3 AND untrusted = $4 ORDER BY attempt DESC LIMIT 1", [owner, repo, sha, !trusted]);
  return r.rows[0] ? rowToBuild(r.rows[0]) : null;
}

/**
 * Store.submit's transaction (the caller opens it). Submits to one repository are serialised by
 * an advisory lock: two replicas submitting one sha at once would otherwise both see no build
 * and both create one, and two pushes to a branch would not see each other to supersede.
 */
export async function submitBuild(q: Queryable, request: BuildRequest, now: number): Promise<SubmitResult> {
  const { owner, repo, sha } = request;
  await lockFor(q, repositoryLock(owner, repo));
  const seen = await q.query("INSERT INTO deliveries (id, event, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING", [request.deliveryId, request.trigger, now]);
  if (seen.rowCount === 0) return { kind: "duplicate-delivery" };

  if (request.pr) {
    await q.query("INSERT INTO sha_prs (owner, repo, sha, pr) VALUES ($1, $2, $3, $4) ON CONFLICT (owner, repo, sha) DO UPDATE SET pr = excluded.pr", [owner, repo, sha, JSON.stringify(request.pr)]);
  }
  const latest = await latestForSha(q, owner, repo, sha, isTrusted(request));
  if (latest && !request.rerun) return shareBuild(q, request, latest);

  const id = randomUUID();
  // Attempts count across both trust levels: (owner, repo, sha, attempt) is unique.
  const next = await q.query("SELECT COALESCE(MAX(attempt), -1) + 1 AS n FROM builds WHERE owner = $1 AND repo = $2 AND sha = $3", [owner, repo, sha]);
  const inserted = await q.query(
    `INSERT INTO builds (id, installation_id, owner, repo, sha, attempt, branch, pr_number, is_default_branch, untrusted, request, state, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', $12) RETURNING *`,
    [id, request.installationId, owner, repo, sha, Number(next.rows[0]!.n), request.branch, request.pr?.number ?? null, isDefaultBranchBuild(request), !isTrusted(request), JSON.stringify(request), now],
  );
  await q.query("UPDATE deliveries SET build_id = $1 WHERE id = $2", [id, request.deliveryId]);
  const { queued, running } = await supersede(q, request, id, now);
  // Delivered at commit: idle workers on every replica try a claim.
  await q.query("SELECT pg_notify($1, '')", [WAKE_CHANNEL]);
  return { kind: "created", build: rowToBuild(inserted.rows[0]!), supersededQueued: queued, supersededRunning: running };
}

async function shareBuild(q: Queryable, request: BuildRequest, latest: BuildRecord): Promise<SubmitResult> {
  // push and pull_request.synchronize of one sha share a build; the PR learns of it here.
  if (request.pr && !latest.request.pr) {
    const merged: BuildRequest = { ...latest.request, pr: request.pr, fetchRef: latest.request.fetchRef ?? request.fetchRef };
    await q.query("UPDATE builds SET request = $1, pr_number = $2 WHERE id = $3", [JSON.stringify(merged), request.pr.number, latest.id]);
    latest.request = merged;
  }
  await q.query("UPDATE deliveries SET build_id = $1 WHERE id = $2", [latest.id, request.deliveryId]);
  return { kind: "existing", build: latest };
}

/** The candidates are narrowed here for the indexes and locked; core/supersede.ts decides. */
async function supersede(q: Queryable, request: BuildRequest, newId: string, now: number): Promise<StoppedBuilds> {
  if (isDefaultBranchBuild(request) || (!request.pr && request.branch === null)) return { queued: [], running: [] };
  const r = request.pr
    ? await q.query("SELECT * FROM builds WHERE owner = $1 AND repo = $2 AND pr_number = $3 AND state <> 'completed' ORDER BY created_at FOR UPDATE", [request.owner, request.repo, request.pr.number])
    : await q.query("SELECT * FROM builds WHERE owner = $1 AND repo = $2 AND branch = $3 AND state <> 'completed' ORDER BY created_at FOR UPDATE", [request.owner, request.repo, request.branch]);
  const candidates = r.rows.map((row: Row) => ({ build: rowToBuild(row), defaultBranch: row.is_default_branch === true }));
  const superseded = candidates.filter((candidate) => supersedes(request, newId, candidate)).map((candidate) => candidate.build);
  return stopBuilds(q, superseded, newId, now);
}
