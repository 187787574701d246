import type { FakeState } from "./fake-state.ts";
import { paginate } from "./paginate.ts";

/**
 * Deployments, their statuses and the issue-comment reads and edits, as GitHub's REST API
 * answers them: a deployment without `required_contexts: []` is refused (409) while a check
 * on its sha has not passed; a `success` status marks earlier deployments of the environment
 * inactive unless `auto_inactive` is false, as GitHub documents it: only the earlier ones that had
 * a `success` and are neither transient nor production; a comment edit keeps its id.
 */
export interface FakeDeployment {
  id: number;
  owner: string;
  repo: string;
  sha: string;
  ref: string;
  environment: string;
  transient: boolean;
  production: boolean;
  statuses: { state: string; environment_url: string | null; log_url: string | null; description: string | null; created_at: string }[];
  body: Record<string, unknown>;
}

type Ctx = { params: Record<string, string>; body: Record<string, unknown>; state: FakeState; baseUrl: string; path: string; query: Record<string, string> };
type Result = { status: number; body: unknown; headers?: Record<string, string> };

const DOCS = "https://docs.github.com/rest";
const notFound: Result = { status: 404, body: { message: "Not Found", documentation_url: DOCS } };
const bot = { login: "microship[bot]", id: 2, node_id: "B_2", type: "Bot", site_admin: false };

/** The deployments of every repo the fake holds; kept beside FakeState so its file stays as it was. */
const deploymentsOf = new WeakMap<FakeState, FakeDeployment[]>();
export function fakeDeployments(state: FakeState): FakeDeployment[] {
  let list = deploymentsOf.get(state);
  if (!list) deploymentsOf.set(state, (list = []));
  return list;
}

export function handleDeploymentOperation(operationId: string, ctx: Ctx): Result | null {
  const { params, body, state } = ctx;
  const repo = params.owner && params.repo ? state.repo(params.owner, params.repo) : null;
  if (!repo) return operationId.startsWith("repos/") || operationId.startsWith("issues/") ? notFound : null;
  const list = fakeDeployments(state);
  const view = (d: FakeDeployment) => ({
    id: d.id, node_id: `DE_${d.id}`, url: `${ctx.baseUrl}/api/v3/repos/${d.owner}/${d.repo}/deployments/${d.id}`, sha: d.sha, ref: d.ref, task: "deploy", payload: (d.body.payload as Record<string, unknown> | undefined) ?? {},
    environment: d.environment, original_environment: d.environment, description: null, creator: bot, created_at: new Date().toISOString(), updated_at: new Date().toISOString(),
    statuses_url: "", repository_url: "", transient_environment: d.transient, production_environment: d.production,
  });
  switch (operationId) {
    case "repos/create-deployment": {
      const checks = state.checkRunsOf(repo.owner, repo.repo).filter((r) => r.head_sha === body.ref);
      if (!Array.isArray(body.required_contexts) && checks.some((r) => r.status !== "completed" || r.conclusion !== "success")) {
        return { status: 409, body: { message: `Conflict: Commit status checks failed for ${String(body.ref)}.`, documentation_url: DOCS } };
      }
      const d: FakeDeployment = {
        id: state.id(), owner: repo.owner, repo: repo.repo, sha: String(body.ref), ref: String(body.ref), environment: String(body.environment ?? "production"),
        transient: body.transient_environment === true, production: Boolean(body.production_environment ?? body.environment === "production"), statuses: [], body,
      };
      list.push(d);
      return { status: 201, body: view(d) };
    }
    case "repos/list-deployments": {
      const found = list
        .filter((d) => d.owner === repo.owner && d.repo === repo.repo && (!params.environment || d.environment === params.environment) && (!params.sha || d.sha === params.sha))
        .sort((a, b) => b.id - a.id);
      const page = paginate(found, params, ctx);
      return { status: 200, body: page.items.map(view), headers: page.headers };
    }
    case "repos/create-deployment-status": {
      const d = list.find((x) => x.id === Number(params.deployment_id) && x.repo === repo.repo);
      if (!d) return notFound;
      const status = { state: String(body.state), environment_url: (body.environment_url as string) ?? null, log_url: (body.log_url as string) ?? null, description: (body.description as string) ?? null, created_at: new Date().toISOString() };
      d.statuses.push(status);
      if (status.state === "success" && body.auto_inactive !== false) {
        for (const other of list) {
          if (other.id >= d.id || other.owner !== d.owner || other.repo !== d.repo || other.environment !== d.environment || other.transient || other.production) continue;
          if (other.statuses.some((s) => s.state === "success") && other.statuses.at(-1)?.state !== "inactive") other.statuses.push({ ...status, state: "inactive" });
        }
      }
      return { status: 201, body: { id: state.id(), node_id: "DES_1", state: status.state, creator: bot, description: status.description ?? "", environment: d.environment, target_url: "", created_at: status.created_at, updated_at: status.created_at, deployment_url: "", repository_url: "", environment_url: status.environment_url ?? "", log_url: status.log_url ?? "", url: "" } };
    }
    case "repos/list-deployment-statuses": {
      const d = list.find((x) => x.id === Number(params.deployment_id) && x.owner === repo.owner && x.repo === repo.repo);
      if (!d) return notFound;
      // Newest first, as GitHub lists them.
      const page = paginate(d.statuses.map((st, n) => ({ ...st, n })).reverse(), params, ctx);
      return { status: 200, body: page.items.map((st) => ({ id: d.id * 1000 + st.n, node_id: "DES_1", state: st.state, creator: bot, description: st.description ?? "", environment: d.environment, target_url: st.log_url ?? "", created_at: st.created_at, updated_at: st.created_at, deployment_url: "", repository_url: "", environment_url: st.environment_url ?? "", log_url: st.log_url ?? "", url: "" })), headers: page.headers };
    }
    case "issues/list-comments": {
      const found = state.comments.filter((c) => c.owner === repo.owner && c.repo === repo.repo && c.issue_number === Number(params.issue_number));
      const page = paginate(found, params, ctx);
      return { status: 200, body: page.items.map((c) => ({ id: c.id, node_id: `IC_${c.id}`, body: c.body, user: bot, html_url: "", url: "", issue_url: "", author_association: "NONE", created_at: "", updated_at: "" })), headers: page.headers };
    }
    case "issues/update-comment": {
      const c = state.comments.find((x) => x.id === Number(params.comment_id) && x.repo === repo.repo);
      if (!c) return notFound;
      c.body = String(body.body);
      return { status: 200, body: { id: c.id, node_id: `IC_${c.id}`, body: c.body, user: bot, html_url: "", url: "", issue_url: "", author_association: "NONE", created_at: "", updated_at: "" } };
    }
    default:
      return null;
  }
}
