import type { Context } from "probot";

const ALLOWED = new Set(["admin", "maintain", "write"]);

/**
 * Whether `user` may push to the repository, by the collaborator-permission endpoint: the
 * comment's author_association (CONTRIBUTOR above all) says nothing about write access.
 */
export async function hasWriteAccess(context: Context<"issue_comment.created">, owner: string, repo: string, user: string): Promise<boolean> {
  const { data: perm } = await context.octokit.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", { owner, repo, username: user });
  const role = String((perm as { role_name?: string }).role_name ?? perm.permission);
  return ALLOWED.has(role) || ALLOWED.has(perm.permission);
}
