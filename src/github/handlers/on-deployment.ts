import type { Context } from "probot";
import type { DeployConfig } from "../../core/deploy/deploy-config.ts";
import { environmentTarget, previewTarget } from "../../core/deploy/deploy-settings.ts";
import type { DeployTarget } from "../../core/deploy/deploy-target.ts";
import type { AppIdentity } from "../app-identity.ts";
import { refuseDeployment } from "../reporter/deployment-refusal.ts";
import type { GitHubRequester } from "../reporter/check-run-reporter.ts";
import { GitHubRollbackRequests } from "../rollback-requests.ts";
import type { HandlerDeps } from "./deps.ts";

const PREVIEW = /^preview\/pr-([1-9][0-9]{0,8})$/;
// The config's rule for an environment's name (deploy-config.ts): anything else is not ours.
const ENVIRONMENT = /^[a-z0-9][a-z0-9-]{0,29}$/;
const SHA = /^[0-9a-f]{40}$/;

/** The environment as microship names its targets; null for a name it never deploys to. */
export function deploymentTarget(environment: string): DeployTarget | null {
  const pr = PREVIEW.exec(environment);
  if (pr) return previewTarget(Number(pr[1]));
  return ENVIRONMENT.test(environment) ? environmentTarget(environment) : null;
}

/** An environment of the base config's `environments` (by default, production). */
function managed(deploy: DeployConfig | undefined, target: DeployTarget): boolean {
  if (target.kind === "preview") return true;
  return Object.hasOwn(deploy?.environments ?? { production: {} }, target.environment);
}

/**
 * `deployment.created` that someone else made (a person on GitHub, another tool), for an
 * environment microship deploys: the image microship built of that sha goes there, through the
 * same RollbackService as `/rollback`, with the statuses written on THAT deployment. Deployments
 * microship made itself are ignored, so its own never loop back; other environments are left alone.
 */
export async function onDeployment(context: Context<"deployment.created">, deps: HandlerDeps, self: AppIdentity): Promise<void> {
  const { payload } = context;
  const d = payload.deployment;
  const target = deploymentTarget(String(d.environment ?? ""));
  if (!payload.installation || !deps.rollbacks || !target || d.task !== "deploy" || !SHA.test(d.sha)) return;
  if (await self.madeIt(d as never)) return;
  const owner = payload.repository.owner.login, repo = payload.repository.name, installationId = payload.installation.id;
  const gh = context.octokit as unknown as GitHubRequester;
  const refuse = (why: string) => refuseDeployment(gh, { owner, repo, deploymentId: d.id, why });
  const made = await new GitHubRollbackRequests(async () => gh).forTarget(installationId, owner, repo, target).catch((err: { status?: number }) => {
    if (err?.status === 404 && target.kind === "preview") return { ok: false as const, reason: `there is no pull request ${target.slug.slice(3)}` };
    throw err;
  });
  if (!made.ok) return target.kind === "preview" ? refuse(`microship did not deploy: ${made.reason}`) : undefined;
  if (!managed(made.request.deploy, target)) return;
  if (target.kind === "preview" && made.request.deploy?.preview?.enabled === false) return refuse("microship did not deploy: previews are turned off (deploy.preview.enabled)");
  const plan = await deps.rollbacks.planSha(made.request, d.sha);
  if (!plan.ok) return refuse(`${plan.reason}.`);
  // Once per deployment: a redelivery must not deploy it a second time.
  if (!(await deps.store.recordDelivery(`deployment:${owner}/${repo}:${d.id}`, "deployment"))) return;
  const log = deps.log.child({ owner, repo, environment: target.environment, deploymentId: d.id });
  log.info({ sha: d.sha, by: d.creator?.login ?? null }, "deploying a deployment made on GitHub");
  deps.rollbacks.start(made.request, plan.steps, async (results) => log.info({ ok: results.every((r) => r.ok) }, "a deployment made on GitHub ended"), {
    kind: "deployment", deploymentId: d.id,
  });
}
