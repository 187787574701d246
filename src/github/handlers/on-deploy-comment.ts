import type { Context } from "probot";
import { forkDeployConfig } from "../../core/deploy/fork-deploy.ts";
import { baseDeployConfig } from "../base-deploy-config.ts";
import { mapPullRequest, pullRequestRef, type PullRequestPayload } from "../map-pull-request.ts";
import type { DeployCommand } from "../parse-deploy-command.ts";
import type { GitHubRequester } from "../reporter/check-run-reporter.ts";
import { commentFacts, replyOnce, type CommentFacts } from "./comment-facts.ts";
import type { HandlerDeps } from "./deps.ts";
import { onRollbackComment } from "./on-rollback-comment.ts";
import { hasWriteAccess } from "./write-access.ts";

type CommentContext = Context<"issue_comment.created">;

/**
 * `/deploy` and `/rollback`: both need write access (checked per comment, as for `/rebuild`),
 * and a server that deploys. Anyone else gets a reply saying why nothing happened.
 */
export async function onDeployComment(context: CommentContext, deps: HandlerDeps, command: DeployCommand, installationId: number): Promise<void> {
  const c = commentFacts(context, installationId);
  const name = command.kind === "invalid" ? command.command : `/${command.kind}`;
  if (!(await hasWriteAccess(context, c.owner, c.repo, c.user))) {
    await replyOnce(context, deps, c, `thanks for asking! \`${name}\` needs write access to ${c.owner}/${c.repo}, so nothing was deployed.`);
    return;
  }
  if (command.kind === "invalid") return replyOnce(context, deps, c, `that \`${name}\` has words it does not take, so nothing was done. ${command.usage}`);
  if (!deps.rollbacks) return replyOnce(context, deps, c, "this microship server deploys nothing (no deployer is set up), so nothing was done.");
  if (command.kind === "rollback") return onRollbackComment(context, deps, c, command.environment, deps.rollbacks);
  if (!c.isPullRequest) return replyOnce(context, deps, c, "`/deploy` works on pull requests only.");
  await deployForkPullRequest(context, deps, c, command.sha);
}

/**
 * A writer approves a fork's preview: the PR's head as it is now (or, with `/deploy <sha>`, only
 * if it still is that commit) is built again as a fork build (no secrets, in isolation) and its
 * request carries the approval, with the base branch's deploy settings cut down to preview.env.
 */
async function deployForkPullRequest(context: CommentContext, deps: HandlerDeps, c: CommentFacts, sha: string | null): Promise<void> {
  const gh = context.octokit as unknown as GitHubRequester;
  const { data } = await gh.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", { owner: c.owner, repo: c.repo, pull_number: c.number });
  const pr = data as PullRequestPayload & { state?: string };
  const head = pr.head.sha;
  if (pr.state !== "open") return replyOnce(context, deps, c, "this pull request is closed, so nothing was deployed.");
  if (!pullRequestRef(pr).fork) {
    return replyOnce(context, deps, c, "this pull request's branch is in this repository, so its preview deploys on every push already. `/rebuild` builds and deploys it again.");
  }
  if (sha !== null && !head.startsWith(sha)) {
    return replyOnce(context, deps, c, `the pull request's head is now \`${head.slice(0, 12)}\`, not \`${sha}\`, so nothing was deployed. Review the new commits, then comment \`/deploy\` again.`);
  }
  const base = await baseDeployConfig(gh, c.owner, c.repo, pr.base.ref);
  if (!base.ok) return replyOnce(context, deps, c, `nothing was deployed: ${base.reason}.`);
  if (base.deploy?.preview?.enabled === false) return replyOnce(context, deps, c, `previews are turned off in ${pr.base.ref}'s config (deploy.preview.enabled), so nothing was deployed.`);
  const request = mapPullRequest({
    deliveryId: context.id, trigger: "deploy_comment", installationId: c.installationId, repository: context.payload.repository,
    pr, sender: c.user, rerun: true, noCache: false,
  });
  await deps.service.submit({ ...request, forkDeploy: { by: c.user, deploy: forkDeployConfig(base.deploy) } });
  await deps.reporter.react(c.installationId, c.owner, c.repo, c.commentId, "rocket");
  await replyOnce(context, deps, c,
    `deploying \`${head.slice(0, 12)}\` as this pull request's preview: the fork's code, built without secrets, running with only \`deploy.preview.env\` from ${pr.base.ref}'s config. A newer push from the fork is not deployed until someone comments \`/deploy\` again.`);
}
