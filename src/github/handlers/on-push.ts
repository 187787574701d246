import type { Context } from "probot";
import { mapPush } from "../map-push.ts";
import type { HandlerDeps } from "./deps.ts";

export async function onPush(context: Context<"push">, deps: HandlerDeps): Promise<void> {
  const request = mapPush(context.id, context.payload);
  if (!request) {
    await deps.store.recordDelivery(context.id, "push");
    return;
  }
  const result = await deps.service.submit(request);
  context.log.info({ sha: request.sha, branch: request.branch, result: result.kind }, "push");
}
