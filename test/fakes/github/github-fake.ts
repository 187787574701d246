import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { matchOperation, describeErrors, OPENAPI_VERSION } from "./openapi-operations.ts";
import { checkRunLimits, deploymentStatusLimits } from "./limits.ts";
import { verifyAppJwt } from "./app-jwt.ts";
import { serveGit } from "./git-http-backend.ts";
import { GitRepos, type FileSpec } from "./git-repos.ts";
import { FakeState, type CheckRun } from "./fake-state.ts";
import { handleOperation } from "./handlers.ts";
import { FakeUsers, tokenParams, userOperation } from "./fake-users.ts";
import { paginate } from "./paginate.ts";

export interface RecordedCall {
  method: string;
  path: string;
  operationId: string | null;
  status: number;
  body: unknown;
  query: Record<string, string>;
  auth: "app" | "installation" | "user" | "none";
  unknownOperation: boolean;
  time: number;
}

export interface Fault {
  match: (call: { method: string; path: string; operationId: string | null }) => boolean;
  status: number;
  times: number;
  headers?: Record<string, string>;
  message?: string;
}

export interface GitHubFakeOptions {
  appId: number;
  publicKeyPem: string;
  tokenTtlSeconds?: number;
}

const DOCS = "https://docs.github.com/rest";

/**
 * A loopback stand-in for GitHub (REST under /api/v3 as on GitHub Enterprise Server, git smart
 * HTTP on the same port). Every REST request is matched to an operation of GitHub's OpenAPI
 * description and validated against it and against GitHub's documented limits; anything else
 * is answered the way GitHub answers it, and recorded.
 */
export class GitHubFake {
  readonly state: FakeState;
  readonly repos: GitRepos;
  /** Users, the App's OAuth client and user tokens (the dashboard's sign-in). */
  readonly users = new FakeUsers();
  readonly calls: RecordedCall[] = [];
  readonly openapiVersion = OPENAPI_VERSION;
  url = "";
  host = "";
  private readonly server: Server;
  private readonly root: string;
  private readonly faults: Fault[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly o: GitHubFakeOptions;

  constructor(options: GitHubFakeOptions) {
    this.o = options;
    this.root = mkdtempSync(join(tmpdir(), "fake-github-"));
    this.repos = new GitRepos(join(this.root, "git"));
    this.state = new FakeState(options.appId, options.tokenTtlSeconds ?? 3600);
    this.server = createServer((req, res) => void this.handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: String(err), documentation_url: DOCS }));
    }));
  }

  async listen(): Promise<this> {
    await new Promise<void>((ok) => this.server.listen(0, "127.0.0.1", ok));
    const addr = this.server.address();
    const port = typeof addr === "object" && addr ? addr.port : 0;
    this.url = `http://127.0.0.1:${port}`;
    this.host = `127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
    rmSync(this.root, { recursive: true, force: true });
  }

  // ---- seeding ----

  createRepo(o: { owner: string; repo: string; installationId: number; defaultBranch?: string }): void {
    this.repos.create(o.owner, o.repo, o.defaultBranch ?? "main");
    this.state.addRepo(o.owner, o.repo, o.installationId, o.defaultBranch ?? "main");
  }

  commit(o: { owner: string; repo: string; branch: string; files: Record<string, FileSpec>; message?: string }): string {
    return this.repos.commit(o.owner, o.repo, o.branch, o.files, o.message);
  }

  setPullRequest(o: { owner: string; repo: string; number: number; headSha: string; headRef: string; headRepo?: string | null; baseRef?: string; state?: "open" | "closed" }): void {
    this.repos.setRef(o.owner, o.repo, `refs/pull/${o.number}/head`, o.headSha);
    this.state.setPullRequest(o);
  }

  /** GitHub's rename: the repository keeps its id under the new name, and the old name is free for a new repository. */
  renameRepo(owner: string, from: string, to: string): void {
    this.repos.rename(owner, from, to);
    this.state.renameRepo(owner, from, to);
  }

  setPermission(owner: string, repo: string, user: string, permission: "admin" | "maintain" | "write" | "triage" | "read" | "none"): void {
    this.state.permissions.set(`${owner}/${repo}/${user}`.toLowerCase(), permission);
  }

  /** The next `times` matching requests fail with `status` (500s, or 403/429 rate limits with their headers). */
  failNext(fault: Omit<Fault, "match"> & { operationId?: string; method?: string; pathIncludes?: string }): void {
    this.faults.push({
      ...fault,
      match: (c) =>
        (!fault.operationId || c.operationId === fault.operationId) && (!fault.method || c.method === fault.method) && (!fault.pathIncludes || c.path.includes(fault.pathIncludes)),
    });
  }

  /** Drops the faults still waiting: a test that failed an endpoint "for ever" ends it here. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  secondaryRateLimit(operationId: string, retryAfterSeconds = 1): void {
    this.failNext({
      operationId, status: 403, times: 1, headers: { "retry-after": String(retryAfterSeconds) },
      message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
    });
  }

  // ---- inspection ----

  checkRuns(owner: string, repo: string): CheckRun[] {
    return this.state.checkRunsOf(owner, repo);
  }

  unknownCalls(): RecordedCall[] {
    return this.calls.filter((c) => c.unknownOperation);
  }

  rejectedCalls(): RecordedCall[] {
    return this.calls.filter((c) => c.status === 422 || c.status === 400);
  }

  /** Resolves when `predicate` holds; on timeout, rejects with the last calls to show what happened. */
  waitFor<T>(predicate: () => T | null | undefined | false, timeoutMs = 20_000, what = "condition"): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = predicate();
        if (v) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const recent = this.calls.slice(-12).map((c) => `${c.status} ${c.method} ${c.path}`).join("\n  ");
        reject(new Error(`GitHub fake: timed out after ${timeoutMs} ms waiting for ${what}. Last calls:\n  ${recent}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  // ---- serving ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const git = /^(\/[^/]+\/[^/]+\.git)(\/.*)$/.exec(url.pathname);
    if (git) return this.handleGit(req, res, url);
    if (url.pathname.startsWith("/login/oauth/")) return this.handleOAuth(req, res, url);

    const path = url.pathname.replace(/^\/api\/v3(?=\/)/, "");
    const method = (req.method ?? "GET").toUpperCase();
    const raw = await readBody(req);
    const query = Object.fromEntries(url.searchParams);
    const matched = matchOperation(method, path);
    const call: RecordedCall = { method, path, operationId: matched?.op.operationId ?? null, status: 0, body: null, query, auth: "none", unknownOperation: !matched, time: Date.now() };
    this.calls.push(call);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      const rate = { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999", "x-ratelimit-used": "1", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600), "x-ratelimit-resource": "core" };
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(), "x-github-media-type": "github.v3; format=json", ...rate, ...headers });
      res.end(status === 204 ? undefined : JSON.stringify(body));
      this.notify();
    };

    if (raw.length > 0) {
      try {
        call.body = JSON.parse(raw.toString("utf8"));
      } catch {
        return reply(400, { message: "Problems parsing JSON", documentation_url: DOCS });
      }
    }
    if (!matched) return reply(404, { message: "Not Found", documentation_url: DOCS, status: "404" });

    const fault = this.faults.find((f) => f.times > 0 && f.match(call));
    if (fault) {
      fault.times--;
      return reply(fault.status, { message: fault.message ?? "Server Error", documentation_url: DOCS }, fault.headers);
    }

    // Auth: /app endpoints (and a repository's installation) take the app's JWT, everything else an installation token.
    const authz = String(req.headers.authorization ?? "");
    const bearer = /^(?:bearer|token)\s+(.+)$/i.exec(authz)?.[1] ?? "";
    if (path.startsWith("/app") || matched.op.operationId === "apps/get-repo-installation") {
      const problem = bearer ? verifyAppJwt(bearer, this.o.publicKeyPem, this.o.appId) : "A JSON web token could not be decoded";
      if (problem) return reply(401, { message: problem, documentation_url: DOCS });
      call.auth = "app";
    } else if (path === "/user" || path.startsWith("/user/")) {
      const user = this.users.userOf(bearer);
      // An installation token is not a user: GitHub refuses it on the user's endpoints.
      if (!user) return reply(this.state.tokenInfo(bearer) ? 403 : 401, { message: this.state.tokenInfo(bearer) ? "Resource not accessible by integration" : "Bad credentials", documentation_url: DOCS });
      call.auth = "user";
      const params = { ...query, ...matched.params };
      if (!matched.op.validateParams(params)) {
        return reply(422, { message: `Invalid request.\n\n${describeErrors(matched.op.validateParams.errors).join("\n")}`, documentation_url: DOCS, status: "422" });
      }
      const result = userOperation(matched.op.operationId, params, user, [...this.state.repos.values()], this.state.appId, (items) => paginate(items, params, { baseUrl: this.url, path, query }));
      return result ? reply(result.status, result.body, result.headers) : reply(404, { message: "Not Found", documentation_url: DOCS });
    } else {
      const token = this.state.tokenInfo(bearer);
      const repoKey = matched.params.owner && matched.params.repo ? `${matched.params.owner}/${matched.params.repo}` : null;
      if (!token || (repoKey && !this.state.tokenCanRead(token, repoKey))) return reply(401, { message: "Bad credentials", documentation_url: DOCS });
      call.auth = "installation";
    }

    const params = { ...query, ...matched.params };
    if (!matched.op.validateParams(params)) {
      return reply(422, { message: `Invalid request.\n\n${describeErrors(matched.op.validateParams.errors).join("\n")}`, documentation_url: DOCS, status: "422" });
    }
    if (matched.op.bodyRequired && call.body == null) return reply(400, { message: "Problems parsing JSON", documentation_url: DOCS });
    if (matched.op.validateBody && call.body != null && !matched.op.validateBody(call.body)) {
      return reply(422, { message: `Invalid request.\n\n${describeErrors(matched.op.validateBody.errors).join("\n")}`, documentation_url: DOCS, status: "422" });
    }
    if (matched.op.operationId.startsWith("checks/")) {
      const problems = checkRunLimits(call.body);
      if (problems.length > 0) return reply(422, { message: `Invalid request.\n\n${problems.join("\n")}`, documentation_url: DOCS, status: "422" });
    }
    if (matched.op.operationId === "repos/create-deployment-status") {
      const problems = deploymentStatusLimits(call.body);
      if (problems.length > 0) return reply(422, { message: `Invalid request.\n\n${problems.join("\n")}`, documentation_url: DOCS, status: "422" });
    }
    const result = handleOperation(matched.op.operationId, { params, body: call.body as Record<string, unknown>, state: this.state, repos: this.repos, baseUrl: this.url, path, query });
    reply(result.status, result.body, result.headers);
  }

  private async handleOAuth(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const raw = await readBody(req);
    const call: RecordedCall = { method, path: url.pathname, operationId: `oauth${url.pathname.slice("/login/oauth".length)}`, status: 0, body: null, query: Object.fromEntries(url.searchParams), auth: "none", unknownOperation: false, time: Date.now() };
    this.calls.push(call);
    res.on("finish", () => ((call.status = res.statusCode), this.notify()));
    if (method === "GET" && url.pathname === "/login/oauth/authorize") return this.users.authorize(url, res);
    if (method === "POST" && url.pathname === "/login/oauth/access_token") {
      return this.users.accessToken(tokenParams(raw, String(req.headers["content-type"] ?? "")), req, res);
    }
    call.unknownOperation = true;
    res.writeHead(404, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><p>Not Found</p>");
  }

  private handleGit(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const [, owner = "", repoGit = ""] = url.pathname.split("/");
    const repo = repoGit.replace(/\.git$/, "");
    const authz = String(req.headers.authorization ?? "");
    let token = "";
    const basic = /^basic\s+(.+)$/i.exec(authz);
    if (basic) token = Buffer.from(basic[1]!, "base64").toString().split(":").slice(1).join(":");
    const bearer = /^bearer\s+(.+)$/i.exec(authz);
    if (bearer) token = bearer[1]!;
    const info = this.state.tokenInfo(token);
    this.calls.push({ method: req.method ?? "GET", path: url.pathname, operationId: "git", status: 0, body: null, query: {}, auth: info ? "installation" : "none", unknownOperation: false, time: Date.now() });
    if (!info || !this.state.tokenCanRead(info, `${owner}/${repo}`)) {
      this.calls.at(-1)!.status = 401;
      res.writeHead(401, { "www-authenticate": 'Basic realm="GitHub"' }).end("Invalid username or token.\n");
      return;
    }
    if (url.searchParams.get("service") === "git-receive-pack" || url.pathname.endsWith("git-receive-pack")) {
      res.writeHead(403).end("Write access to repository not granted.\n");
      return;
    }
    this.calls.at(-1)!.status = 200;
    serveGit(req, res, this.repos.root, url.pathname, url.search.slice(1), "x-access-token");
  }
}

export async function startGitHubFake(options: GitHubFakeOptions): Promise<GitHubFake> {
  return new GitHubFake(options).listen();
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
