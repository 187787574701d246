import type { BuildRecord } from "../../core/build.ts";
import type { BuildListQuery } from "../../core/store.ts";
import type { SqliteDatabase } from "./sqlite-database.ts";
import { rowToBuild, type Row } from "./rows.ts";

/** A reader who can see more repositories than this is asked to filter by one. */
export const MAX_LIST_REPOS = 1000;

/** One page of the builds list. Every value is bound; the SQL text depends only on which filters are set. */
export function listBuilds(sql: SqliteDatabase, q: BuildListQuery): BuildRecord[] {
  const repos = [...new Set(q.repos.map((r) => r.toLowerCase()))];
  if (repos.length === 0) return [];
  if (repos.length > MAX_LIST_REPOS) throw new Error(`listBuilds takes at most ${MAX_LIST_REPOS} repositories`);
  // One JSON array, not a "?" per repository: the statement cache keys on the text.
  const where = ["lower(owner || '/' || repo) IN (SELECT value FROM json_each(?))"];
  const args: (string | number)[] = [JSON.stringify(repos)];
  if (q.repo !== undefined) (where.push("lower(owner || '/' || repo) = ?"), args.push(q.repo.toLowerCase()));
  if (q.branch !== undefined) (where.push("branch = ?"), args.push(q.branch));
  if (q.pr !== undefined) (where.push("pr_number = ?"), args.push(q.pr));
  if (q.state !== undefined) (where.push("state = ?"), args.push(q.state));
  if (q.builder !== undefined) (where.push("json_extract(outcome, '$.builder') = ?"), args.push(q.builder));
  const limit = Math.max(0, Math.min(100, Math.floor(q.limit)));
  const offset = Math.max(0, Math.floor(q.offset));
  const rows = sql
    .prepare(`SELECT * FROM builds WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`)
    .all(...args, limit, offset) as Row[];
  return rows.map(rowToBuild);
}
