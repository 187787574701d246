import type { BuildRequest, PullRequestRef, Trigger } from "../core/types.ts";

export interface PullRequestPayload {
  number: number;
  head: { sha: string; ref: string; repo: { full_name: string } | null };
  base: { ref: string; repo: { full_name: string } };
}

export interface RepoPayload {
  /** GitHub's repository id: what secrets are kept under, as a name can pass to another repository. */
  id: number;
  name: string;
  owner: { login: string };
  default_branch: string;
}

export function pullRequestRef(pr: PullRequestPayload): PullRequestRef {
  // A deleted fork has no head repo: treat it as a fork, the safe side.
  const headRepo = pr.head.repo?.full_name ?? "";
  return { number: pr.number, fork: headRepo.toLowerCase() !== pr.base.repo.full_name.toLowerCase(), headRepo, headRef: pr.head.ref, baseRef: pr.base.ref };
}

export interface PrRequestOptions {
  deliveryId: string;
  trigger: Trigger;
  installationId: number;
  repository: RepoPayload;
  pr: PullRequestPayload;
  sender: string;
  rerun: boolean;
  noCache: boolean;
}

/** A PR's head becomes a BuildRequest; fork heads are fetched from the base repo's pull/N/head. */
export function mapPullRequest(o: PrRequestOptions): BuildRequest {
  const ref = pullRequestRef(o.pr);
  return {
    deliveryId: o.deliveryId,
    trigger: o.trigger,
    installationId: o.installationId,
    owner: o.repository.owner.login,
    repo: o.repository.name,
    repositoryId: o.repository.id,
    defaultBranch: o.repository.default_branch,
    sha: o.pr.head.sha,
    branch: ref.fork ? null : o.pr.head.ref,
    pr: ref,
    fetchRef: ref.fork ? `refs/pull/${o.pr.number}/head` : null,
    noCache: o.noCache,
    requestedBy: o.sender,
    changedPaths: null,
    rerun: o.rerun,
  };
}
