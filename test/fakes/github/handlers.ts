import type { FakeState, CheckRun, PullRequest } from "./fake-state.ts";
import type { GitRepos } from "./git-repos.ts";
import { paginate } from "./paginate.ts";
import { handleDeploymentOperation } from "./deployment-handlers.ts";

interface Ctx {
  params: Record<string, string>;
  body: Record<string, unknown>;
  state: FakeState;
  repos: GitRepos;
  baseUrl: string;
  /** The request path without /api/v3, for Link headers. */
  path: string;
  /** The query string's parameters, as sent. */
  query: Record<string, string>;
}

type Result = { status: number; body: unknown; headers?: Record<string, string> };

const notFound: Result = { status: 404, body: { message: "Not Found", documentation_url: "https://docs.github.com/rest" } };

function user(login: string, id = 1) {
  return { login, id, node_id: `U_${id}`, avatar_url: "", gravatar_id: "", url: "", html_url: "", followers_url: "", following_url: "", gists_url: "", starred_url: "", subscriptions_url: "", organizations_url: "", repos_url: "", events_url: "", received_events_url: "", type: "User", site_admin: false };
}

function app(state: FakeState) {
  return { id: state.appId, slug: "microship", node_id: "A_1", name: "microship", owner: user("microship-org"), description: "", external_url: "", html_url: "", created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z", permissions: { checks: "write", contents: "read" }, events: ["push"] };
}

function checkRunView(run: CheckRun, ctx: Ctx) {
  return {
    id: run.id, head_sha: run.head_sha, node_id: `CR_${run.id}`, external_id: run.external_id, url: `${ctx.baseUrl}/api/v3/repos/${run.owner}/${run.repo}/check-runs/${run.id}`,
    html_url: `${ctx.baseUrl}/${run.owner}/${run.repo}/runs/${run.id}`, details_url: run.details_url, status: run.status, conclusion: run.conclusion,
    started_at: run.started_at, completed_at: run.completed_at,
    output: { ...run.output, annotations_count: run.annotations.length, annotations_url: "" },
    name: run.name, check_suite: { id: 1 }, app: app(ctx.state), pull_requests: [],
  };
}

function pullView(pr: PullRequest, repo: { id: number; owner: string; repo: string; defaultBranch: string }) {
  const base = { id: repo.id, full_name: `${repo.owner}/${repo.repo}`, name: repo.repo, owner: user(repo.owner) };
  // `headRepo: null` stands for a deleted fork, which GitHub shows as a null head repo.
  const headRepo = pr.headRepo === null ? null : { ...base, id: pr.headRepo ? repo.id + 500_000 : repo.id, full_name: pr.headRepo ?? base.full_name, owner: user((pr.headRepo ?? base.full_name).split("/")[0]!) };
  return { number: pr.number, state: pr.state ?? "open", head: { sha: pr.headSha, ref: pr.headRef, repo: headRepo }, base: { ref: pr.baseRef ?? repo.defaultBranch, sha: "", repo: base } };
}

/** Answers a validated request. Only the fields the app and Probot read need to be realistic. */
export function handleOperation(operationId: string, ctx: Ctx): Result {
  const { params, body, state } = ctx;
  const repo = params.owner && params.repo ? state.repo(params.owner, params.repo) : null;
  switch (operationId) {
    case "apps/get-authenticated":
      return { status: 200, body: app(state) };
    case "apps/list-installations":
      return { status: 200, body: state.installations().map((id) => ({ id, account: user("octo"), app_id: state.appId })) };
    case "apps/create-installation-access-token": {
      const names = Array.isArray(body?.repositories) ? (body.repositories as string[]) : undefined;
      if (!state.installations().includes(Number(params.installation_id))) return notFound;
      const info = state.mintToken(Number(params.installation_id), names);
      if (!info) return { status: 422, body: { message: "There is at least one repository that does not exist or is not accessible to the parent installation.", documentation_url: "https://docs.github.com/rest" } };
      const all = { checks: "write", contents: "read", metadata: "read", pull_requests: "write", issues: "write" };
      const permissions = (body?.permissions as Record<string, string> | undefined) ?? all;
      return { status: 201, body: { token: info.token, expires_at: new Date(info.expiresAt).toISOString(), permissions, repository_selection: names ? "selected" : "all" } };
    }
    case "apps/get-repo-installation":
      return repo ? { status: 200, body: { id: repo.installationId, app_id: state.appId, account: user(repo.owner) } } : notFound;
    case "repos/get":
      return repo ? { status: 200, body: { id: repo.id, name: repo.repo, full_name: `${repo.owner}/${repo.repo}`, owner: user(repo.owner), default_branch: repo.defaultBranch, private: true } } : notFound;
    case "checks/create": {
      if (!repo) return notFound;
      const output = (body.output ?? {}) as Record<string, unknown>;
      const run: CheckRun = {
        id: state.id(), owner: repo.owner, repo: repo.repo, name: String(body.name), head_sha: String(body.head_sha),
        status: String(body.status ?? (body.conclusion ? "completed" : "queued")), conclusion: (body.conclusion as string) ?? null,
        external_id: (body.external_id as string) ?? null, details_url: (body.details_url as string) ?? null,
        started_at: (body.started_at as string) ?? null, completed_at: (body.completed_at as string) ?? null,
        output: { title: (output.title as string) ?? null, summary: (output.summary as string) ?? null, text: (output.text as string) ?? null },
        annotations: [...((output.annotations as Record<string, unknown>[]) ?? [])], actions: (body.actions as Record<string, unknown>[]) ?? [],
        history: [{ time: Date.now(), body }],
      };
      state.checkRuns.set(run.id, run);
      return { status: 201, body: checkRunView(run, ctx) };
    }
    case "checks/update":
    case "checks/get": {
      const run = state.checkRuns.get(Number(params.check_run_id));
      if (!run || !repo || run.repo.toLowerCase() !== repo.repo.toLowerCase()) return notFound;
      if (operationId === "checks/get") return { status: 200, body: checkRunView(run, ctx) };
      for (const k of ["name", "details_url", "external_id", "started_at", "completed_at", "status", "conclusion"] as const) {
        if (body[k] !== undefined) (run as unknown as Record<string, unknown>)[k] = body[k];
      }
      if (body.conclusion !== undefined && body.status === undefined) run.status = "completed";
      const output = body.output as Record<string, unknown> | undefined;
      if (output) {
        for (const k of ["title", "summary", "text"] as const) if (output[k] !== undefined) run.output[k] = output[k] as string;
        // Annotations of later updates are appended, as GitHub documents.
        run.annotations.push(...((output.annotations as Record<string, unknown>[]) ?? []));
      }
      if (body.actions !== undefined) run.actions = body.actions as Record<string, unknown>[];
      run.history.push({ time: Date.now(), body });
      return { status: 200, body: checkRunView(run, ctx) };
    }
    case "checks/list-for-ref": {
      if (!repo) return notFound;
      // Only shas are modelled: the app asks for the runs of a build's own sha.
      let runs = state.checkRunsOf(repo.owner, repo.repo).filter((r) => r.head_sha === params.ref);
      if (params.check_name !== undefined) runs = runs.filter((r) => r.name === params.check_name);
      if (params.status !== undefined) runs = runs.filter((r) => r.status === params.status);
      if (params.app_id !== undefined && Number(params.app_id) !== state.appId) runs = [];
      // `latest` (GitHub's default) keeps only the newest run of each name.
      if ((params.filter ?? "latest") === "latest") {
        const newest = new Map<string, CheckRun>();
        for (const r of runs) if ((newest.get(r.name)?.id ?? -1) < r.id) newest.set(r.name, r);
        runs = [...newest.values()];
      }
      runs.sort((a, b) => b.id - a.id);
      const page = paginate(runs, params, ctx);
      return { status: 200, body: { total_count: runs.length, check_runs: page.items.map((r) => checkRunView(r, ctx)) }, headers: page.headers };
    }
    case "repos/list-pull-requests-associated-with-commit": {
      if (!repo) return notFound;
      // Open PRs whose head is the commit, as GitHub answers for a commit not on the default branch.
      const prs = [...state.pulls.values()]
        .filter((pr) => pr.owner.toLowerCase() === repo.owner.toLowerCase() && pr.repo.toLowerCase() === repo.repo.toLowerCase() && pr.headSha === params.commit_sha)
        .sort((a, b) => a.number - b.number);
      const page = paginate(prs, params, ctx);
      return { status: 200, body: page.items.map((pr) => pullView(pr, repo)), headers: page.headers };
    }
    case "repos/get-collaborator-permission-level": {
      if (!repo) return notFound;
      const permission = state.permissions.get(`${repo.owner}/${repo.repo}/${params.username}`.toLowerCase()) ?? "read";
      const legacy = permission === "maintain" ? "write" : permission === "triage" ? "read" : permission;
      return { status: 200, body: { permission: legacy, role_name: permission, user: user(params.username!) } };
    }
    case "issues/create-comment": {
      if (!repo) return notFound;
      const id = state.id();
      state.comments.push({ owner: repo.owner, repo: repo.repo, issue_number: Number(params.issue_number), body: String(body.body), id });
      return { status: 201, body: { id, body: body.body, user: user("microship[bot]"), html_url: "" } };
    }
    case "reactions/create-for-issue-comment": {
      if (!repo) return notFound;
      // GitHub keeps one reaction per user and content, and answers 200 for one that exists.
      const same = state.reactions.find((r) => r.owner === repo.owner && r.repo === repo.repo && r.comment_id === Number(params.comment_id) && r.content === String(body.content));
      if (!same) state.reactions.push({ owner: repo.owner, repo: repo.repo, comment_id: Number(params.comment_id), content: String(body.content) });
      return { status: same ? 200 : 201, body: { id: state.id(), content: body.content, user: user("microship[bot]"), created_at: new Date().toISOString() } };
    }
    case "pulls/get": {
      const pr = state.pulls.get(`${params.owner}/${params.repo}#${params.pull_number}`.toLowerCase());
      if (!pr || !repo) return notFound;
      return { status: 200, body: pullView(pr, repo) };
    }
    case "repos/get-content": {
      if (!repo) return notFound;
      const content = ctx.repos.read(repo.owner, repo.repo, params.ref ?? repo.defaultBranch, params.path!);
      if (!content) return notFound;
      return { status: 200, body: { type: "file", encoding: "base64", size: content.length, name: params.path!.split("/").pop(), path: params.path, content: content.toString("base64"), sha: "", url: "", git_url: null, html_url: null, download_url: null, _links: { self: "", git: null, html: null } } };
    }
    default:
      return handleDeploymentOperation(operationId, ctx) ?? notFound;
  }
}
