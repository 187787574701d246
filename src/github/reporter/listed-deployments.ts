import type { GitHubRequester } from "./check-run-reporter.ts";

export interface ListedDeployment {
  id: number;
  /** What microship put there (app, build, image…), or `{}`: a payload is anyone's JSON. */
  payload: Record<string, unknown>;
}

/** The newest `perPage` deployments of one environment (and sha, when given), their payloads as objects. */
export async function listDeployments(gh: GitHubRequester, q: { owner: string; repo: string; environment: string; sha?: string; perPage: number }): Promise<ListedDeployment[]> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}/deployments", {
    owner: q.owner, repo: q.repo, environment: q.environment, per_page: q.perPage, ...(q.sha ? { sha: q.sha } : {}),
  });
  const list = (Array.isArray(data) ? data : []) as { id: number; payload?: unknown }[];
  return list.map((d) => ({ id: d.id, payload: (d.payload && typeof d.payload === "object" ? d.payload : {}) as Record<string, unknown> }));
}
