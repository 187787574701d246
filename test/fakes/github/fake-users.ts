import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * GitHub's users as a GitHub App's OAuth web flow sees them (docs: "Generating a user access
 * token for a GitHub App"): /login/oauth/authorize sends the browser back to the redirect URI
 * with a `code` and the same `state` (or `error=access_denied`); /login/oauth/access_token
 * trades the code, once and within ten minutes, for a user-to-server token, and answers its
 * errors with 200 and an `error` field, as GitHub does. These endpoints are not REST, so the
 * OpenAPI description has no word on them.
 */

export interface FakeUser {
  login: string;
  id: number;
  /** "owner/repo" this user can see (GitHub's answer for the user's own access). */
  repos: string[];
}

interface Code {
  login: string;
  clientId: string;
  redirectUri: string;
  expiresAt: number;
}

const CODE_MS = 10 * 60_000;

export class FakeUsers {
  readonly users = new Map<string, FakeUser>();
  readonly tokens = new Map<string, string>();
  private readonly codes = new Map<string, Code>();
  client: { id: string; secret: string; callbackUrl: string } | null = null;
  /** Who is signed in to GitHub in "the browser": the authorize step acts for them. Null: the user clicks Cancel. */
  signedIn: string | null = null;
  private nextId = 5000;

  addUser(login: string, repos: string[]): FakeUser {
    const user = { login, id: this.nextId++, repos };
    this.users.set(login.toLowerCase(), user);
    return user;
  }

  userOf(token: string): FakeUser | null {
    const login = this.tokens.get(token);
    return login ? (this.users.get(login) ?? null) : null;
  }

  authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const client = this.client;
    if (!client || q.get("client_id") !== client.id) return page(res, 404, "Not Found");
    const redirect = q.get("redirect_uri") ?? client.callbackUrl;
    // GitHub accepts a redirect_uri under the registered callback URL's host and path.
    if (!redirect.startsWith(client.callbackUrl)) return page(res, 400, "The redirect_uri MUST match the registered callback URL for this application.");
    const back = new URL(redirect);
    const state = q.get("state");
    if (state !== null) back.searchParams.set("state", state);
    if (!this.signedIn) {
      back.searchParams.set("error", "access_denied");
      back.searchParams.set("error_description", "The user has denied your application access.");
    } else {
      const code = randomBytes(10).toString("hex");
      this.codes.set(code, { login: this.signedIn.toLowerCase(), clientId: client.id, redirectUri: redirect, expiresAt: Date.now() + CODE_MS });
      back.searchParams.set("code", code);
    }
    res.writeHead(302, { location: back.toString() }).end();
  }

  accessToken(params: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const client = this.client;
    const json = String(req.headers.accept ?? "").includes("application/json");
    const answer = (body: Record<string, string | number>): void => {
      if (json) return void res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
      void res.writeHead(200, { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }).end(new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)])).toString());
    };
    const fail = (error: string, description: string): void => answer({ error, error_description: description, error_uri: "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors" });
    if (!client || params.get("client_id") !== client.id || params.get("client_secret") !== client.secret) {
      return fail("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
    }
    const code = this.codes.get(params.get("code") ?? "");
    this.codes.delete(params.get("code") ?? "");
    if (!code || code.clientId !== client.id || code.expiresAt < Date.now()) {
      return fail("bad_verification_code", "The code passed is incorrect or expired.");
    }
    if (params.has("redirect_uri") && params.get("redirect_uri") !== code.redirectUri) {
      return fail("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.");
    }
    const token = `ghu_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x").slice(0, 36)}`;
    this.tokens.set(token, code.login);
    answer({ access_token: token, expires_in: 28800, token_type: "bearer", scope: "" });
  }
}

function page(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html><title>GitHub</title><p>${text}</p>`);
}

/** The form or JSON body of a token request, as GitHub takes either. */
export function tokenParams(raw: Buffer, contentType: string): URLSearchParams {
  if (contentType.includes("application/json")) {
    try {
      return new URLSearchParams(Object.entries(JSON.parse(raw.toString("utf8")) as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)]));
    } catch {
      return new URLSearchParams();
    }
  }
  return new URLSearchParams(raw.toString("utf8"));
}

type Paginate = <T>(items: T[]) => { items: T[]; headers: Record<string, string> };

/** GET /user and the user's installations and repositories, as seen with the user's token. */
export function userOperation(
  operationId: string, params: Record<string, string>, user: FakeUser,
  repos: { owner: string; repo: string; id: number; installationId: number }[], appId: number, paginate: Paginate,
): { status: number; body: unknown; headers?: Record<string, string> } | null {
  const account = (login: string, id: number) => ({ login, id, node_id: `U_${id}`, type: "User", site_admin: false, avatar_url: "", url: "", html_url: "" });
  const visible = repos.filter((r) => user.repos.some((name) => name.toLowerCase() === `${r.owner}/${r.repo}`.toLowerCase()));
  switch (operationId) {
    case "users/get-authenticated":
      return { status: 200, body: { ...account(user.login, user.id), name: user.login, created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" } };
    case "apps/list-installations-for-authenticated-user": {
      const ids = [...new Set(visible.map((r) => r.installationId))].sort((a, b) => a - b);
      const page = paginate(ids);
      const installations = page.items.map((id) => ({ id, app_id: appId, account: account(visible.find((r) => r.installationId === id)!.owner, id), repository_selection: "selected", target_type: "Organization" }));
      return { status: 200, body: { total_count: ids.length, installations }, headers: page.headers };
    }
    case "apps/list-installation-repos-for-authenticated-user": {
      const mine = visible.filter((r) => r.installationId === Number(params.installation_id));
      // GitHub answers 404 for an installation the user can't access.
      if (mine.length === 0) return { status: 404, body: { message: "Not Found", documentation_url: "https://docs.github.com/rest" } };
      const page = paginate(mine);
      const repositories = page.items.map((r) => ({ id: r.id, name: r.repo, full_name: `${r.owner}/${r.repo}`, owner: account(r.owner, r.id), private: true }));
      return { status: 200, body: { total_count: mine.length, repository_selection: "selected", repositories }, headers: page.headers };
    }
    default:
      return null;
  }
}
