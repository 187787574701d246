import type { BuildRecord } from "./build.ts";
import type { BuildRequest } from "./types.ts";

/**
 * Which unfinished builds a new event stops. Written here once, not in each store's SQL, so
 * every Store applies the same rule: a store only narrows the candidates (by repository and
 * PR number or branch, for its indexes) and asks these functions about each.
 */

/**
 * A default-branch build: a build of the default branch that no PR asked for. Such builds are
 * never superseded, and never supersede: each one queues behind the running one (Queue.claim),
 * so every commit of the default branch gets its image. A store records this when it creates
 * the build, since a PR that shares the build later does not make it any less one.
 */
export function isDefaultBranchBuild(request: BuildRequest): boolean {
  return request.pr === null && request.branch === request.defaultBranch;
}

export interface SupersedeCandidate {
  build: BuildRecord;
  /** isDefaultBranchBuild of the request the build was created for. */
  defaultBranch: boolean;
}

/**
 * Whether the build just created for `request` (id `newBuildId`) supersedes `candidate`:
 * an unfinished build of the same repository and another sha that is
 *  - for a PR request: a build of the same PR number (whatever its branch);
 *  - for any other request with a branch that is not the default branch: a build of the same
 *    branch that is not a default-branch build and not a fork PR's build (a fork's branch name
 *    says nothing about the base repository's branches).
 * A default-branch request supersedes nothing, and neither does a request without a branch
 * and PR. A superseded build that is queued ends as cancelled; a running one is asked to stop.
 */
export function supersedes(request: BuildRequest, newBuildId: string, candidate: SupersedeCandidate): boolean {
  const old = candidate.build;
  if (isDefaultBranchBuild(request)) return false;
  if (old.id === newBuildId || old.state === "completed") return false;
  if (old.request.owner !== request.owner || old.request.repo !== request.repo || old.request.sha === request.sha) return false;
  if (request.pr) return old.request.pr?.number === request.pr.number;
  if (request.branch === null || old.request.branch !== request.branch) return false;
  return !candidate.defaultBranch && !old.request.pr?.fork;
}

/**
 * Whether closing a PR stops this unfinished build of it. Not a push build the PR shared (a
 * same-repository push of the PR's head): that build still serves its branch.
 */
export function closedPullRequestStops(build: BuildRecord): boolean {
  const { branch, pr, trigger } = build.request;
  return !(branch && !pr?.fork && trigger === "push");
}
