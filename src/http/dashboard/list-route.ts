import type { Express, Request, Response } from "express";
import type { BuildListQuery, Store } from "../../core/store.ts";
import type { BuildState } from "../../core/types.ts";
import type { Access } from "./access.ts";
import { renderPage } from "./views.ts";

const PAGE_SIZE = 25;
const MAX_PAGE = 400;
/** As many repositories as the store lists in one query. */
const MAX_REPOS = 1000;
const STATES = new Set<BuildState>(["queued", "running", "completed"]);

export interface ListFilters {
  repo?: string;
  branch?: string;
  pr?: number;
  state?: BuildState;
  builder?: string;
}

/** The query's filters, each bounded; anything malformed is dropped, not an error. */
export function readFilters(req: Request): ListFilters {
  const text = (name: string, max: number) => {
    const v = req.query[name];
    return typeof v === "string" && v.length > 0 && v.length <= max ? v : undefined;
  };
  const pr = text("pr", 9);
  const state = text("state", 16) as BuildState | undefined;
  return {
    repo: text("repo", 201),
    branch: text("branch", 255),
    pr: pr && /^[0-9]+$/.test(pr) ? Number(pr) : undefined,
    state: state && STATES.has(state) ? state : undefined,
    builder: text("builder", 500),
  };
}

function pageUrl(filters: ListFilters, page: number): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v !== undefined) params.set(k, String(v));
  if (page > 1) params.set("page", String(page));
  const qs = params.toString();
  return qs ? `/builds?${qs}` : "/builds";
}

export function addListRoute(app: Express, deps: { store: Store; access: Access; listRefreshMs?: number }): void {
  app.get("/builds", (req, res) => list(deps, req, res));
}

async function list(deps: { store: Store; access: Access; listRefreshMs?: number }, req: Request, res: Response): Promise<void> {
  const session = deps.access.session(req, res);
  if (!session) return;
  const visible = [...(await deps.access.visible(session)).keys()].sort();
  const q = readFilters(req);
  const rawPage = Number(req.query.page);
  const page = Number.isInteger(rawPage) && rawPage >= 1 ? Math.min(rawPage, MAX_PAGE) : 1;
  const tooMany = visible.length > MAX_REPOS && q.repo === undefined;
  const repos = q.repo !== undefined ? visible.filter((r) => r === q.repo!.toLowerCase()) : visible.slice(0, MAX_REPOS);
  const query: BuildListQuery = { ...q, repos, limit: PAGE_SIZE + 1, offset: (page - 1) * PAGE_SIZE };
  const found = await deps.store.listBuilds(query);
  renderPage(res, "list", {
    title: "Builds",
    session,
    // The first page follows new builds (build-list.js); older pages stay as they are.
    script: page === 1 ? "build-list.js" : undefined,
    refreshMs: deps.listRefreshMs ?? 5_000,
    repos: visible.slice(0, MAX_REPOS),
    q,
    tooMany,
    filtered: Object.values(q).some((v) => v !== undefined),
    builds: found.slice(0, PAGE_SIZE),
    page,
    prevUrl: page > 1 ? pageUrl(q, page - 1) : null,
    nextUrl: found.length > PAGE_SIZE && page < MAX_PAGE ? pageUrl(q, page + 1) : null,
  });
}
