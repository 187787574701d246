import type { Context } from "probot";
import { mapPullRequest } from "../map-pull-request.ts";
import type { HandlerDeps } from "./deps.ts";

export async function onPullRequest(context: Context<"pull_request.opened" | "pull_request.synchronize" | "pull_request.reopened">, deps: HandlerDeps): Promise<void> {
  const { payload } = context;
  if (!payload.installation) return;
  const request = mapPullRequest({
    deliveryId: context.id,
    trigger: "pull_request",
    installationId: payload.installation.id,
    repository: payload.repository,
    pr: payload.pull_request,
    sender: payload.sender.login,
    rerun: false,
    noCache: false,
  });
  const result = await deps.service.submit(request);
  context.log.info({ sha: request.sha, pr: request.pr?.number, fork: request.pr?.fork, result: result.kind }, "pull request");
}

export async function onPullRequestClosed(context: Context<"pull_request.closed">, deps: HandlerDeps): Promise<void> {
  if (!(await deps.store.recordDelivery(context.id, "pull_request.closed"))) return;
  const { repository, pull_request } = context.payload;
  await deps.service.pullRequestClosed(repository.owner.login, repository.name, pull_request.number);
  if (context.payload.installation) deps.previews?.closed({ installationId: context.payload.installation.id, owner: repository.owner.login, repo: repository.name, number: pull_request.number });
}
