import { DEPLOY_DEFAULTS, type DeployConfig } from "../deploy/deploy-config.ts";
import { deployEnv, deployTargetFor, type DeployTarget } from "../deploy/deploy-target.ts";
import { deployConfigFor } from "../deploy/fork-deploy.ts";
import type { DeployInput, Deployer, DeploymentKey, DeploymentState, DeployReport } from "../deployer.ts";
import { deploymentLockName } from "../deploy/deployment-lock.ts";
import { isMicroshipError } from "../errors.ts";
import { registerSecret } from "../redact.ts";
import { NO_REPOSITORY_ID } from "../secrets/secret-store.ts";
import { appOf, need, type Stage, type StageContext } from "./stage.ts";
import { releaseCommand } from "../deploy/release-command.ts";

/**
 * Runs the pushed image where the deploy rules say (a PR's preview, a branch's environment).
 * A failed deploy is reported apart from the build, which stays green; a cancel still cancels.
 */
export const deployStage: Stage<"deploy"> = {
  name: "deploy",
  phase: "deploy",
  scope: "app",
  async run(ctx) {
    const app = appOf(ctx, "deploy");
    // Kept with the build even when it does not deploy now: a later deployment of this image runs it.
    app.found.release = releaseOf(ctx, ctx.config?.deploy).release ?? null;
    const deployer = ctx.deps.deployer;
    if (!deployer) return;
    const image = need(app.found.image, "a pushed image", "deploy");
    const decision = deployTargetFor(ctx.build.request, deployConfigFor(ctx.build.request, ctx.config?.deploy));
    if (!decision.deploy) {
      ctx.log.system(`Not deployed: ${decision.reason}.`);
      return;
    }
    const { owner, repo } = ctx.build.request;
    const key: DeploymentKey = { owner, repo, app: app.plan.app, target: decision.target };
    app.found.deploy = await deployWithReport(ctx, deployer, key, { imageRef: image.ref, digest: image.digest });
  },
};

async function deployWithReport(ctx: StageContext, deployer: Deployer, key: DeploymentKey, image: { imageRef: string; digest: string }): Promise<DeployReport> {
  const { build, deps, log } = ctx;
  const logUrl = deps.links.detailsUrl(build.id);
  const github = deps.deployments ?? null;
  const deploymentId = github ? await github.created(build, key, image).catch(reportError(ctx, null)) : null;
  const tell = (state: DeploymentState, url: string | null) =>
    github && deploymentId !== null ? github.status(build, key, deploymentId, state, { url, logUrl }).catch(reportError(ctx, undefined)) : undefined;
  let unlock: (() => Promise<void>) | null = null;
  const notes: string[] = [];
  try {
    unlock = await deployLock(ctx, key);
    await tell("in_progress", null);
    log.system(`Deploying to ${key.target.environment} on ${deployer.describe()}.`);
    const result = await deployer.deploy(await deployInput(ctx, key, image, notes));
    log.system(`Deployed to ${key.target.environment}: ${result.url}`);
    await tell("success", result.url);
    return { environment: key.target.environment, ok: true, url: result.url, error: null, ...(notes.length ? { notes } : {}) };
  } catch (err) {
    if (ctx.signal.aborted) {
      await tell("inactive", null);
      throw ctx.signal.reason ?? err;
    }
    const users = isMicroshipError(err) && err.kind === "user";
    const message = err instanceof Error ? err.message : String(err);
    if (!users) deps.log.error({ err, buildId: build.id }, "deploy failed on our side");
    log.system(`Deploy to ${key.target.environment} failed: ${message}`);
    await tell(users ? "failure" : "error", null);
    return { environment: key.target.environment, ok: false, url: null, error: message, ...(notes.length ? { notes } : {}) };
  } finally {
    await unlock?.();
  }
}

/** Waits until no other build deploys this deployment (another worker, another replica). */
function deployLock(ctx: StageContext, key: DeploymentKey): Promise<() => Promise<void>> {
  const locks = ctx.deps.deployLocks;
  if (!locks) return Promise.resolve(async () => {});
  const waiting = () => ctx.log.system(`Waiting for another deploy to ${key.target.environment} to finish.`);
  return locks.acquire(deploymentLockName(key), ctx.signal, waiting);
}

async function deployInput(ctx: StageContext, key: DeploymentKey, image: { imageRef: string; digest: string }, notes: string[]): Promise<DeployInput> {
  const deploy = deployConfigFor(ctx.build.request, ctx.config?.deploy);
  const port = deploy?.port ?? DEPLOY_DEFAULTS.port;
  return {
    ...key, ...image, installationId: ctx.build.request.installationId, sha: ctx.build.request.sha, ...lifetime(deploy, key.target), port, health: deploy?.health ?? DEPLOY_DEFAULTS.health,
    env: { ...(await secretEnv(ctx, deploy?.secrets ?? [], key.target, notes)), ...deployEnv(deploy, key.target, port) },
    signal: ctx.signal,
    log: (text) => ctx.log.system(text),
    ...releaseOf(ctx, deploy),
  };
}

/** `deploy.release`, else the Procfile's release line; a fork's build runs none (an approved preview's deploy config is the base's, without release). */
function releaseOf(ctx: StageContext, deploy: DeployConfig | undefined): { release?: string } {
  if (ctx.build.request.pr?.fork || ctx.build.request.forkDeploy) return {};
  const release = releaseCommand(deploy, appOf(ctx, "deploy").plan);
  return release ? { release } : {};
}

/** A preview's TTL and idle time, from the config or the defaults; environments live and stay awake. */
function lifetime(deploy: DeployConfig | undefined, target: DeployTarget): { expiresAt: Date | null; idleMinutes: number | null } {
  if (target.kind !== "preview") return { expiresAt: null, idleMinutes: null };
  const days = deploy?.preview?.ttl_days ?? DEPLOY_DEFAULTS.ttlDays;
  return { expiresAt: new Date(Date.now() + days * 86_400_000), idleMinutes: deploy?.preview?.idle_minutes ?? DEPLOY_DEFAULTS.idleMinutes };
}

/** The named secrets' values; a fork's preview gets none, as a fork's build gets none. Names not set are said, never values. */
async function secretEnv(ctx: StageContext, names: string[], target: DeployTarget, notes: string[]): Promise<Record<string, string>> {
  const { request } = ctx.build;
  if (names.length === 0) return {};
  if (target.kind === "preview" && request.pr?.fork) {
    ctx.log.system("This preview is from a fork: it gets no secrets.");
    return {};
  }
  const all = ctx.deps.secrets ? await ctx.deps.secrets.secretsFor(request) : [];
  const wanted = new Set(names);
  const env: Record<string, string> = {};
  for (const s of all) {
    if (!wanted.has(s.id)) continue;
    env[s.id] = s.value;
    // The app's own output (a release command's, a failed start's) reaches the build log: never with these in it.
    registerSecret(s.value);
  }
  const missing = names.filter((n) => !(n in env));
  if (missing.length > 0) {
    // A request from before repository ids were recorded gets none: its notes say why instead of calling each "not set".
    notes.push(ctx.deps.secrets && request.repositoryId == null ? NO_REPOSITORY_ID : missingSecrets(`${request.owner}/${request.repo}`, missing));
    ctx.log.system(notes[notes.length - 1]!);
  }
  return env;
}

/** The line a user who names a secret nobody set reads, with how to set it. */
export function missingSecrets(repo: string, missing: string[]): string {
  return `Secrets not set for ${repo}: ${missing.join(", ")}. Set them with \`npm run secrets -- set ${repo} NAME\` (the value on stdin) on the microship server.`;
}

/** GitHub being unreachable must not stop a deploy: the check run still tells. */
function reportError<T>(ctx: StageContext, value: T) {
  return (err: unknown): T => {
    ctx.deps.log.warn({ err, buildId: ctx.build.id }, "could not write the deployment to GitHub");
    return value;
  };
}
