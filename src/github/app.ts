import type { ApplicationFunction } from "probot";
import type { HandlerDeps } from "./handlers/deps.ts";
import { onPush } from "./handlers/on-push.ts";
import { onPullRequest, onPullRequestClosed } from "./handlers/on-pull-request.ts";
import { onIssueComment } from "./handlers/on-issue-comment.ts";
import { onCheckRun, onCheckSuite } from "./handlers/on-check-rerun.ts";
import { onDeployment } from "./handlers/on-deployment.ts";
import { AppIdentity } from "./app-identity.ts";

/**
 * The Probot app: one thin handler per event, each turning a payload into a BuildRequest for
 * the build service. `check_suite.requested` is deliberately absent: push and pull_request
 * already trigger, and building on both would build twice.
 */
export function microshipApp(deps: HandlerDeps): ApplicationFunction {
  return (app) => {
    app.on("push", (ctx) => onPush(ctx, deps));
    app.on(["pull_request.opened", "pull_request.synchronize", "pull_request.reopened"], (ctx) => onPullRequest(ctx, deps));
    app.on("pull_request.closed", (ctx) => onPullRequestClosed(ctx, deps));
    app.on("issue_comment.created", (ctx) => onIssueComment(ctx, deps));
    app.on(["check_run.rerequested", "check_run.requested_action"], (ctx) => onCheckRun(ctx, deps));
    app.on("check_suite.rerequested", (ctx) => onCheckSuite(ctx, deps));
    const self = new AppIdentity(deps.appId ?? null, async () => ((await (await app.auth()).request("GET /app")).data as { slug?: string } | null)?.slug ?? null);
    app.on("deployment.created", (ctx) => onDeployment(ctx, deps, self));
  };
}
