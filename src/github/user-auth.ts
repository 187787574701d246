import type { GitHubUsers, VisibleRepo } from "../core/ports.ts";
import { isRepositoryId } from "../core/types.ts";
import type { GitHubRequester } from "./reporter/check-run-reporter.ts";
import { MicroshipOctokit } from "./octokit-class.ts";

const PER_PAGE = 100;
const MAX_INSTALLATION_PAGES = 3;
const MAX_REPO_PAGES = 10;
/** What one user's list holds at most; the store's list takes as many. */
export const MAX_VISIBLE_REPOS = 1000;
const WRITE = new Set(["admin", "maintain", "write"]);
const TIMEOUT_MS = 10_000;

export interface GitHubUserAuthOptions {
  clientId: string;
  clientSecret: string;
  /** https://github.com, or the GitHub Enterprise Server's address. */
  webBaseUrl: string;
  /** https://api.github.com, or the server's /api/v3. */
  apiBaseUrl: string;
  /** The installation's client, for the permission check /rebuild also makes. */
  clientFor(installationId: number): Promise<GitHubRequester>;
}

export class OAuthRefused extends Error {}

/**
 * The GitHub App's own OAuth (web application flow) and the user endpoints it opens. The token
 * is a user-to-server token: GitHub answers with what both the app and the user may see.
 */
export class GitHubUserAuth implements GitHubUsers {
  private readonly o: GitHubUserAuthOptions;

  constructor(options: GitHubUserAuthOptions) {
    this.o = { ...options, webBaseUrl: options.webBaseUrl.replace(/\/+$/, "") };
  }

  authorizeUrl(state: string, redirectUri: string): string {
    const url = new URL(`${this.o.webBaseUrl}/login/oauth/authorize`);
    url.searchParams.set("client_id", this.o.clientId);
    url.searchParams.set("redirect_uri", redirectUri);
    url.searchParams.set("state", state);
    url.searchParams.set("allow_signup", "false");
    return url.toString();
  }

  /** GitHub answers a refused code with 200 and an `error` field, so both are checked. */
  async exchangeCode(code: string, redirectUri: string): Promise<string> {
    const res = await fetch(`${this.o.webBaseUrl}/login/oauth/access_token`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ client_id: this.o.clientId, client_secret: this.o.clientSecret, code, redirect_uri: redirectUri }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: "error",
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown };
    if (!res.ok || typeof body.access_token !== "string" || body.error !== undefined) {
      throw new OAuthRefused(`GitHub refused the sign-in code (${res.status}${typeof body.error === "string" ? `: ${body.error.slice(0, 64)}` : ""})`);
    }
    return body.access_token;
  }

  async viewer(token: string): Promise<{ login: string; id: number }> {
    const { data } = await this.user(token).request("GET /user");
    return { login: data.login, id: Number(data.id) };
  }

  async repositories(token: string): Promise<VisibleRepo[]> {
    const octokit = this.user(token);
    const installations: number[] = [];
    for (let page = 1; page <= MAX_INSTALLATION_PAGES; page++) {
      const { data } = await octokit.request("GET /user/installations", { per_page: PER_PAGE, page });
      installations.push(...data.installations.map((i) => i.id));
      if (data.installations.length < PER_PAGE) break;
    }
    const repos: VisibleRepo[] = [];
    for (const installationId of installations) {
      for (let page = 1; page <= MAX_REPO_PAGES && repos.length < MAX_VISIBLE_REPOS; page++) {
        const { data } = await octokit.request("GET /user/installations/{installation_id}/repositories", { installation_id: installationId, per_page: PER_PAGE, page });
        for (const r of data.repositories) repos.push({ owner: r.owner.login, repo: r.name, installationId });
        if (data.repositories.length < PER_PAGE) break;
      }
    }
    return repos.slice(0, MAX_VISIBLE_REPOS);
  }

  async canWrite(installationId: number, owner: string, repo: string, login: string): Promise<boolean> {
    const p = await this.permission(installationId, owner, repo, login);
    return WRITE.has(String(p.role_name)) || WRITE.has(String(p.permission));
  }

  async isAdmin(installationId: number, owner: string, repo: string, login: string): Promise<boolean> {
    const p = await this.permission(installationId, owner, repo, login);
    return p.role_name === "admin" || p.permission === "admin";
  }

  async repositoryId(installationId: number, owner: string, repo: string): Promise<number> {
    const client = await this.o.clientFor(installationId);
    const { data } = (await client.request("GET /repos/{owner}/{repo}", { owner, repo })) as { data: { id?: unknown } };
    if (!isRepositoryId(data.id)) throw new Error(`GitHub gave no repository id for ${owner}/${repo}`);
    return data.id;
  }

  /** The user's permission on the repository, as GitHub says it now (asked each time: a demotion counts at once). */
  private async permission(installationId: number, owner: string, repo: string, login: string): Promise<{ permission?: string; role_name?: string }> {
    const client = await this.o.clientFor(installationId);
    const { data } = (await client.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", { owner, repo, username: login })) as {
      data: { permission?: string; role_name?: string };
    };
    return data;
  }

  /** A client per call: the token is the user's, and nothing of it is kept. */
  private user(token: string) {
    return new MicroshipOctokit({ auth: { token }, baseUrl: this.o.apiBaseUrl, request: { timeout: TIMEOUT_MS } });
  }
}
