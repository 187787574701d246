import type { BuildRecord } from "../../core/build.ts";
import type { BuildListQuery } from "../../core/store.ts";
import { rowToBuild } from "../sqlite/rows.ts";
import type { Queryable } from "./pg-database.ts";

/** A reader who can see more repositories than this is asked to filter by one. */
const MAX_LIST_REPOS = 1000;

/**
 * One page of the builds list, as the SQLite adapter gives it. Every value is bound; the SQL text
 * depends only on which filters are set. Outcomes are JSON text that may hold the escape of a NUL,
 * which Postgres's JSON operators refuse, so such a row has no builder to match (never an error).
 */
export async function listBuilds(q: Queryable, query: BuildListQuery): Promise<BuildRecord[]> {
  const repos = [...new Set(query.repos.map((r) => r.toLowerCase()))];
  if (repos.length === 0) return [];
  if (repos.length > MAX_LIST_REPOS) throw new Error(`listBuilds takes at most ${MAX_LIST_REPOS} repositories`);
  const args: unknown[] = [repos];
  const where = ["lower(owner || '/' || repo) = ANY($1::text[])"];
  const bind = (sql: string, value: unknown) => {
    args.push(value);
    where.push(sql.replace("?", `$${args.length}`));
  };
  if (query.repo !== undefined) bind("lower(owner || '/' || repo) = ?", query.repo.toLowerCase());
  if (query.branch !== undefined) bind("branch = ?", query.branch);
  if (query.pr !== undefined) bind("pr_number = ?", query.pr);
  if (query.state !== undefined) bind("state = ?", query.state);
  if (query.builder !== undefined) bind("CASE WHEN position('\\u0000' in outcome) > 0 THEN NULL ELSE outcome::json ->> 'builder' END = ?", query.builder);
  const limit = Math.max(0, Math.min(100, Math.floor(query.limit)));
  const offset = Math.max(0, Math.floor(query.offset));
  args.push(limit, offset);
  const r = await q.query(`SELECT * FROM builds WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT $${args.length - 1} OFFSET $${args.length}`, args);
  return r.rows.map(rowToBuild);
}
