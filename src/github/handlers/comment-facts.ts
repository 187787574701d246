import type { Context } from "probot";
import type { HandlerDeps } from "./deps.ts";

/** Who commented where: what every comment command needs. */
export interface CommentFacts {
  owner: string;
  repo: string;
  /** GitHub's id of the repository commented in: what its secrets are kept by. */
  repositoryId: number;
  user: string;
  installationId: number;
  /** The issue or pull request commented on. */
  number: number;
  isPullRequest: boolean;
  defaultBranch: string;
  commentId: number;
}

export function commentFacts(context: Context<"issue_comment.created">, installationId: number): CommentFacts {
  const { payload } = context;
  return {
    owner: payload.repository.owner.login,
    repo: payload.repository.name,
    repositoryId: payload.repository.id,
    user: payload.comment.user?.login ?? payload.sender.login,
    installationId,
    number: payload.issue.number,
    isPullRequest: Boolean(payload.issue.pull_request),
    defaultBranch: payload.repository.default_branch,
    commentId: payload.comment.id,
  };
}

/**
 * Answers the comment once per delivery (a redelivery does not answer twice). Nothing is marked
 * seen before the command is decided, so a GitHub error on the way fails the delivery and its
 * redelivery tries again.
 */
export async function replyOnce(context: Context<"issue_comment.created">, deps: HandlerDeps, c: CommentFacts, text: string): Promise<void> {
  if (!(await deps.store.recordDelivery(`${context.id}:reply`, "issue_comment"))) return;
  await deps.reporter.reply(c.installationId, c.owner, c.repo, c.number, `@${c.user} ${text}`);
}
