import type { Context } from "probot";
import { environmentTarget, previewTarget } from "../../core/deploy/deploy-settings.ts";
import type { RollbackResult, RollbackService } from "../../core/deploy/rollback-service.ts";
import { baseDeployConfig } from "../base-deploy-config.ts";
import { deployHistory } from "../deploy-history.ts";
import type { GitHubRequester } from "../reporter/check-run-reporter.ts";
import { replyOnce, type CommentFacts } from "./comment-facts.ts";
import type { HandlerDeps } from "./deps.ts";

/** Planning (GitHub's history, the deployer's list) must leave the webhook time to answer. */
const PLAN_TIMEOUT_MS = 7_000;

/**
 * `/rollback` on a pull request (its preview) or `/rollback <environment>` anywhere: each app
 * goes back to the image it ran before, as GitHub's deployments of that environment recorded
 * it, with the settings of the base branch's config (the PR's base; the default branch for an
 * environment). The deploy runs after the webhook is answered; its result is a reply.
 */
export async function onRollbackComment(context: Context<"issue_comment.created">, deps: HandlerDeps, c: CommentFacts, environment: string | null, rollbacks: RollbackService): Promise<void> {
  if (environment === null && !c.isPullRequest) {
    return replyOnce(context, deps, c, "on an issue, `/rollback` needs the environment's name, e.g. `/rollback production`.");
  }
  const gh = context.octokit as unknown as GitHubRequester;
  const target = environment === null ? previewTarget(c.number) : environmentTarget(environment);
  let ref = c.defaultBranch;
  if (target.kind === "preview") {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", { owner: c.owner, repo: c.repo, pull_number: c.number });
    if (data.state !== "open") return replyOnce(context, deps, c, "this pull request is closed and its preview removed, so nothing was rolled back.");
    ref = String(data.base.ref);
  }
  const base = await baseDeployConfig(gh, c.owner, c.repo, ref);
  if (!base.ok) return replyOnce(context, deps, c, `nothing was rolled back: ${base.reason}.`);
  const history = await deployHistory(gh, c.owner, c.repo, target.environment);
  const request = { installationId: c.installationId, owner: c.owner, repo: c.repo, repositoryId: c.repositoryId, target, history, deploy: base.deploy };
  const plan = await rollbacks.plan(request, AbortSignal.timeout(PLAN_TIMEOUT_MS));
  if (!plan.ok) return replyOnce(context, deps, c, `nothing was rolled back: ${plan.reason}.`);
  // Marked seen before it starts: a redelivery must not roll back a second step.
  if (!(await deps.store.recordDelivery(`${context.id}:rollback`, "issue_comment"))) return;
  await deps.reporter.react(c.installationId, c.owner, c.repo, c.commentId, "rocket");
  rollbacks.start(request, plan.steps, (results) => deps.reporter.reply(c.installationId, c.owner, c.repo, c.number, `@${c.user} ${rollbackSummary(target.environment, results)}`));
}

export function rollbackSummary(environment: string, results: RollbackResult[]): string {
  const lines = results.map((r) => {
    const app = r.app ? `**${r.app}** ` : "";
    return r.ok
      ? `- ${app}✅ back to \`${r.sha.slice(0, 12)}\`: ${r.url}`
      : `- ${app}❌ going back to \`${r.sha.slice(0, 12)}\` failed, so the version that was running keeps serving: ${(r.error ?? "no reason given").slice(0, 500)}`;
  });
  return [`rollback of **${environment}**:`, "", ...lines].join("\n");
}
