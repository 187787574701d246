import type { Context } from "probot";
import type { BuildRequest } from "../../core/types.ts";
import { isTrusted } from "../../core/trust.ts";
import type { HandlerDeps } from "./deps.ts";
import { REBUILD_ACTIONS } from "../reporter/check-run-reporter.ts";
import { requestFromGitHub } from "./request-from-github.ts";

/** Re-run from the Checks tab, or our Rebuild buttons: the same sha is built again. */
export async function onCheckRun(context: Context<"check_run.rerequested" | "check_run.requested_action">, deps: HandlerDeps): Promise<void> {
  const { payload } = context;
  let noCache = false;
  if (payload.action === "requested_action") {
    const id = payload.requested_action?.identifier;
    if (!REBUILD_ACTIONS.some((a) => a.identifier === id)) return;
    noCache = id === "rebuild-no-cache";
  }
  // Our runs carry the build id as external_id, so the run names the build (and its trust level).
  const found = payload.check_run.external_id ? await deps.store.getBuild(payload.check_run.external_id) : null;
  // Only a build of this very repository and sha counts: an id is not a licence to rebuild elsewhere.
  const old = found && sameCommit(found.request, payload.repository, payload.check_run.head_sha) ? found : null;
  const base = old?.request ?? (await requestFromGitHub(context, payload.check_run.head_sha, payload.check_run.check_suite?.head_branch ?? null));
  if (!base) return unknownOrigin(context, payload.check_run.head_sha);
  await rerun(context, deps, base, payload.action === "rerequested" ? "check_run_rerequested" : "requested_action", noCache);
}

/** "Re-run all checks": every build of the sha runs again, one per trust level (they never share). */
export async function onCheckSuite(context: Context<"check_suite.rerequested">, deps: HandlerDeps): Promise<void> {
  const { payload } = context;
  const { owner, name } = { owner: payload.repository.owner.login, name: payload.repository.name };
  const sha = payload.check_suite.head_sha;
  const known = await Promise.all([true, false].map((trusted) => deps.store.latestBuildForSha(owner, name, sha, trusted)));
  const bases = known.flatMap((b) => (b ? [b.request] : []));
  if (bases.length === 0) {
    const base = await requestFromGitHub(context, sha, payload.check_suite.head_branch);
    if (!base) return unknownOrigin(context, sha);
    bases.push(base);
  }
  for (const base of bases) await rerun(context, deps, base, "check_suite_rerequested", false);
}

async function rerun(context: Context, deps: HandlerDeps, base: BuildRequest, trigger: BuildRequest["trigger"], noCache: boolean): Promise<void> {
  const { sender: by, repository } = context.payload as { sender?: { login: string }; repository: { id: number } };
  const sender = by?.login ?? "";
  // One delivery may re-run a trusted and a fork build of one sha; each keeps its own dedup key.
  const deliveryId = isTrusted(base) ? context.id : `${context.id}:fork`;
  // The repository id is the event's: a stored request may predate it, and it is what secrets go by.
  const result = await deps.service.submit({ ...base, repositoryId: repository.id, deliveryId, trigger, rerun: true, noCache, requestedBy: sender });
  context.log.info({ sha: base.sha, trigger, fork: !isTrusted(base), result: result.kind }, "re-run");
}

function sameCommit(request: BuildRequest, repository: { name: string; owner: { login: string } }, sha: string): boolean {
  return request.owner.toLowerCase() === repository.owner.login.toLowerCase() && request.repo.toLowerCase() === repository.name.toLowerCase() && request.sha === sha;
}

function unknownOrigin(context: Context, sha: string): void {
  context.log.warn({ sha }, "re-run of a sha with no build, no pull request and no branch: not built, as its origin can't be told");
}
