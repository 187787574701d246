import type { Context } from "probot";
import type { BuildRequest } from "../../core/types.ts";
import { mapPullRequest, pullRequestRef, type PullRequestPayload, type RepoPayload } from "../map-pull-request.ts";

const PER_PAGE = 100;
const MAX_PAGES = 3;

/**
 * A re-run of a sha our store no longer knows. Trust comes from GitHub's PR data, never from the
 * absence of a record (a forgotten fork sha once came back as a trusted build):
 * - any open PR with this sha as head from another repository (or a deleted one) makes it a
 *   fork build: fetched from pull/N/head, its own cache scope, no secrets;
 * - else a same-repository PR with this head builds it as that PR;
 * - else a `head_branch` on the check suite says a push to the base repository made it (GitHub
 *   leaves it null for fork heads), so it is built as that branch;
 * - else we can't tell where the sha comes from, and nothing is built.
 * When GitHub can't answer, this throws: guessing is what let the fork in.
 */
export async function requestFromGitHub(context: Context, sha: string, headBranch: string | null): Promise<BuildRequest | null> {
  const p = context.payload as { repository: RepoPayload; installation?: { id: number }; sender?: { login: string } };
  if (!p.installation) return null;
  const owner = p.repository.owner.login;
  const repo = p.repository.name;
  const heads: PullRequestPayload[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { data } = await context.octokit.request("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", { owner, repo, commit_sha: sha, per_page: PER_PAGE, page });
    const prs = data as unknown as PullRequestPayload[];
    heads.push(...prs.filter((pr) => pr.head.sha === sha));
    if (prs.length < PER_PAGE) break;
  }
  heads.sort((a, b) => a.number - b.number);
  const pr = heads.find((h) => pullRequestRef(h).fork) ?? heads[0];
  const common = { deliveryId: context.id, installationId: p.installation.id, repository: p.repository, sender: p.sender?.login ?? "", rerun: true, noCache: false };
  if (pr) return mapPullRequest({ ...common, trigger: "check_suite_rerequested", pr });
  if (!headBranch) return null;
  return {
    deliveryId: context.id,
    trigger: "check_suite_rerequested",
    installationId: p.installation.id,
    owner,
    repo,
    repositoryId: p.repository.id,
    defaultBranch: p.repository.default_branch,
    sha,
    branch: headBranch,
    pr: null,
    fetchRef: null,
    noCache: false,
    requestedBy: common.sender,
    changedPaths: null,
    rerun: true,
  };
}
