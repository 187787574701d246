import type { Context } from "probot";
import type { BuildRequest } from "../../core/types.ts";
import type { HandlerDeps } from "./deps.ts";
import { REBUILD_ACTIONS } from "../../reporter/check-run-reporter.ts";

/** Re-run from the Checks tab, or our Rebuild buttons: the same sha is built again. */
export async function onCheckRun(context: Context<"check_run.rerequested" | "check_run.requested_action">, deps: HandlerDeps): Promise<void> {
  const { payload } = context;
  let noCache = false;
  if (payload.action === "requested_action") {
    const id = payload.requested_action?.identifier;
    if (!REBUILD_ACTIONS.some((a) => a.identifier === id)) return;
    noCache = id === "rebuild-no-cache";
  }
  const old = payload.check_run.external_id ? await deps.store.getBuild(payload.check_run.external_id) : null;
  const base = old?.request ?? (await fromPayload(payload.check_run.head_sha, payload.check_run.check_suite?.head_branch ?? null, context, deps));
  if (!base) return;
  await rerun(context, deps, base, payload.action === "rerequested" ? "check_run_rerequested" : "requested_action", noCache);
}

export async function onCheckSuite(context: Context<"check_suite.rerequested">, deps: HandlerDeps): Promise<void> {
  const { payload } = context;
  const { owner, name } = { owner: payload.repository.owner.login, name: payload.repository.name };
  const old = await deps.store.latestBuildForSha(owner, name, payload.check_suite.head_sha);
  const base = old?.request ?? (await fromPayload(payload.check_suite.head_sha, payload.check_suite.head_branch, context, deps));
  if (!base) return;
  await rerun(context, deps, base, "check_suite_rerequested", false);
}

async function rerun(context: Context, deps: HandlerDeps, base: BuildRequest, trigger: BuildRequest["trigger"], noCache: boolean): Promise<void> {
  const sender = (context.payload as { sender?: { login: string } }).sender?.login ?? "";
  const result = await deps.service.submit({ ...base, deliveryId: context.id, trigger, rerun: true, noCache, requestedBy: sender });
  context.log.info({ sha: base.sha, trigger, result: result.kind }, "re-run");
}

/** When our store no longer knows the build, the payload still says enough to rebuild it. */
async function fromPayload(sha: string, branch: string | null, context: Context, deps: HandlerDeps): Promise<BuildRequest | null> {
  const p = context.payload as { repository: { name: string; owner: { login: string }; default_branch: string }; installation?: { id: number } };
  if (!p.installation) return null;
  const pr = await deps.store.prForSha(p.repository.owner.login, p.repository.name, sha);
  return {
    deliveryId: context.id,
    trigger: "check_run_rerequested",
    installationId: p.installation.id,
    owner: p.repository.owner.login,
    repo: p.repository.name,
    defaultBranch: p.repository.default_branch,
    sha,
    branch: pr?.fork ? null : branch,
    pr,
    fetchRef: pr?.fork ? `refs/pull/${pr.number}/head` : null,
    noCache: false,
    requestedBy: "",
    changedPaths: null,
    rerun: true,
  };
}
