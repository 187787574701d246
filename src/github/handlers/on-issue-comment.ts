import type { Context } from "probot";
import { mapPullRequest } from "../map-pull-request.ts";
import { parseRebuildCommand } from "../parse-rebuild-command.ts";
import { parseDeployCommand } from "../parse-deploy-command.ts";
import type { HandlerDeps } from "./deps.ts";
import { onDeployComment } from "./on-deploy-comment.ts";

const ALLOWED = new Set(["admin", "maintain", "write"]);

/**
 * `/rebuild` on a PR. Authorised by the collaborator-permission endpoint, because
 * author_association (CONTRIBUTOR above all) says nothing about write access.
 *
 * Safe to run again for a redelivery: nothing is marked seen before the command is decided, so
 * a GitHub error on the way (permission, PR) fails the delivery and its redelivery tries again.
 * The build is submitted under the delivery id (a second submit is a no-op), the refusal is
 * posted once per delivery, and GitHub keeps one reaction per user and content.
 */
export async function onIssueComment(context: Context<"issue_comment.created">, deps: HandlerDeps): Promise<void> {
  const { payload } = context;
  const command = payload.issue.pull_request ? parseRebuildCommand(payload.comment.body) : null;
  if (!command) return onOtherCommand(context, deps);
  if (!payload.installation) return;
  if (payload.comment.user?.type === "Bot" || payload.sender.type === "Bot") return;

  const owner = payload.repository.owner.login;
  const repo = payload.repository.name;
  const user = payload.comment.user?.login ?? payload.sender.login;
  const installationId = payload.installation.id;
  const { data: perm } = await context.octokit.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", { owner, repo, username: user });
  const role = String((perm as { role_name?: string }).role_name ?? perm.permission);
  if (!ALLOWED.has(role) && !ALLOWED.has(perm.permission)) {
    if (!(await deps.store.recordDelivery(`${context.id}:refused`, "issue_comment"))) return;
    await deps.reporter.reply(
      installationId, owner, repo, payload.issue.number,
      `@${user} thanks for asking! \`/rebuild\` needs write access to ${owner}/${repo}, so nothing was rebuilt. A maintainer can comment \`/rebuild\`, or use the re-run button on the Checks tab.`,
    );
    return;
  }
  const { data: pr } = await context.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", { owner, repo, pull_number: payload.issue.number });
  const request = mapPullRequest({
    deliveryId: context.id,
    trigger: "rebuild_comment",
    installationId,
    repository: payload.repository,
    pr: pr as never,
    sender: user,
    rerun: true,
    noCache: command.noCache,
  });
  await deps.service.submit(request);
  await deps.reporter.react(installationId, owner, repo, payload.comment.id, "rocket");
}

/** `/deploy` and `/rollback` (on-deploy-comment.ts); bots are ignored as for `/rebuild`. */
async function onOtherCommand(context: Context<"issue_comment.created">, deps: HandlerDeps): Promise<void> {
  const { payload } = context;
  const command = parseDeployCommand(payload.comment.body);
  if (!command || !payload.installation) return;
  if (payload.comment.user?.type === "Bot" || payload.sender.type === "Bot") return;
  await onDeployComment(context, deps, command, payload.installation.id);
}
