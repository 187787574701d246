import type { BuildRequest } from "../core/types.ts";
import { commitSubject } from "../core/commit-subject.ts";

/** The fields of a `push` payload we read; the webhook types of Octokit satisfy it. */
export interface PushPayload {
  ref: string;
  after: string;
  deleted: boolean;
  commits: { added?: string[]; removed?: string[]; modified?: string[] }[];
  repository: { id: number; name: string; full_name: string; owner: { login?: string; name?: string | null } | null; default_branch?: string; master_branch?: string };
  installation?: { id: number };
  sender?: { login: string } | null;
  head_commit?: { message?: string } | null;
}

// GitHub lists at most 20 commits in a push payload; past that we can't know every changed path.
const COMMIT_LIST_CAP = 20;

/** A branch push becomes a BuildRequest; tag pushes and branch deletions become null. */
export function mapPush(deliveryId: string, p: PushPayload): BuildRequest | null {
  if (p.deleted || !p.ref.startsWith("refs/heads/") || /^0+$/.test(p.after) || !p.installation) return null;
  const branch = p.ref.slice("refs/heads/".length);
  const known = p.commits.length > 0 && p.commits.length < COMMIT_LIST_CAP;
  const changed = known ? [...new Set(p.commits.flatMap((c) => [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]))] : null;
  return {
    deliveryId,
    trigger: "push",
    installationId: p.installation.id,
    owner: p.repository.owner?.login ?? p.repository.owner?.name ?? p.repository.full_name.split("/")[0]!,
    repo: p.repository.name,
    repositoryId: p.repository.id,
    defaultBranch: p.repository.default_branch ?? p.repository.master_branch ?? "main",
    sha: p.after,
    branch,
    pr: null,
    fetchRef: null,
    noCache: false,
    requestedBy: p.sender?.login ?? "",
    changedPaths: changed,
    rerun: false,
    commitMessage: commitSubject(p.head_commit?.message),
  };
}
