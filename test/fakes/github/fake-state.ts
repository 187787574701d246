import { randomBytes } from "node:crypto";

export interface CheckRunUpdate {
  time: number;
  body: Record<string, unknown>;
}

export interface CheckRun {
  id: number;
  owner: string;
  repo: string;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  external_id: string | null;
  details_url: string | null;
  started_at: string | null;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  annotations: Record<string, unknown>[];
  actions: Record<string, unknown>[];
  /** Every create and update body, in order. */
  history: CheckRunUpdate[];
}

interface TokenInfo {
  token: string;
  installationId: number;
  expiresAt: number;
  /** `owner/repo` in lower case, when the token was asked for some repositories of the installation only. */
  only?: Set<string>;
}

export interface PullRequest {
  owner: string;
  repo: string;
  number: number;
  headSha: string;
  headRef: string;
  /** owner/name of the head repo; absent means the base repo itself, null a deleted fork. */
  headRepo?: string | null;
  /** Absent: open. */
  state?: "open" | "closed";
  baseRef?: string;
}

/** What the fake remembers: repos and installations, tokens, check runs, PRs, comments. */
export class FakeState {
  readonly appId: number;
  readonly tokenTtlSeconds: number;
  readonly repos = new Map<string, { owner: string; repo: string; id: number; installationId: number; defaultBranch: string }>();
  readonly tokens = new Map<string, TokenInfo>();
  readonly checkRuns = new Map<number, CheckRun>();
  readonly permissions = new Map<string, string>();
  readonly pulls = new Map<string, PullRequest>();
  readonly comments: { owner: string; repo: string; issue_number: number; body: string; id: number }[] = [];
  readonly reactions: { owner: string; repo: string; comment_id: number; content: string }[] = [];
  private nextId = 1000;

  constructor(appId: number, tokenTtlSeconds: number) {
    this.appId = appId;
    this.tokenTtlSeconds = tokenTtlSeconds;
  }

  id(): number {
    return this.nextId++;
  }

  addRepo(owner: string, repo: string, installationId: number, defaultBranch: string): void {
    this.repos.set(`${owner}/${repo}`.toLowerCase(), { owner, repo, id: this.id(), installationId, defaultBranch });
  }

  renameRepo(owner: string, from: string, to: string): void {
    const found = this.repo(owner, from);
    if (!found) throw new Error(`no repository ${owner}/${from} to rename`);
    this.repos.delete(`${owner}/${from}`.toLowerCase());
    this.repos.set(`${owner}/${to}`.toLowerCase(), { ...found, repo: to });
  }

  repo(owner: string, repo: string) {
    return this.repos.get(`${owner}/${repo}`.toLowerCase()) ?? null;
  }

  installations(): number[] {
    return [...new Set([...this.repos.values()].map((r) => r.installationId))];
  }

  /** `repositories` (names, as GitHub takes them) limits the token to those; null when the installation lacks one (GitHub's 422). */
  mintToken(installationId: number, repositories?: string[]): TokenInfo | null {
    if (!this.installations().includes(installationId)) return null;
    const mine = [...this.repos.values()].filter((r) => r.installationId === installationId);
    const only = repositories ? new Set(repositories.map((n) => mine.find((r) => r.repo.toLowerCase() === n.toLowerCase()))) : null;
    if (only?.has(undefined)) return null;
    const info: TokenInfo = { token: `ghs_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x").slice(0, 36)}`, installationId, expiresAt: Date.now() + this.tokenTtlSeconds * 1000 };
    if (only) info.only = new Set([...only].map((r) => `${r!.owner}/${r!.repo}`.toLowerCase()));
    this.tokens.set(info.token, info);
    return info;
  }

  tokenInfo(token: string): TokenInfo | null {
    const info = this.tokens.get(token);
    return info && info.expiresAt > Date.now() ? info : null;
  }

  tokenCanRead(info: TokenInfo, fullName: string): boolean {
    if (info.only && !info.only.has(fullName.toLowerCase())) return false;
    return this.repos.get(fullName.toLowerCase())?.installationId === info.installationId;
  }

  setPullRequest(pr: PullRequest): void {
    this.pulls.set(`${pr.owner}/${pr.repo}#${pr.number}`.toLowerCase(), pr);
  }

  checkRunsOf(owner: string, repo: string): CheckRun[] {
    return [...this.checkRuns.values()].filter((r) => r.owner.toLowerCase() === owner.toLowerCase() && r.repo.toLowerCase() === repo.toLowerCase());
  }
}
