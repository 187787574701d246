import type { BuildRecord } from "../build.ts";
import type { Deployer, DeploymentKey, DeploymentReporter, DeploymentState } from "../deployer.ts";
import { isMicroshipError } from "../errors.ts";
import { registerSecret } from "../redact.ts";
import type { LinkSigner, OpLog, SecretSource } from "../ports.ts";
import type { Store } from "../store.ts";
import type { DeployConfig } from "./deploy-config.ts";
import { deploySettings } from "./deploy-settings.ts";
import type { DeployTarget } from "./deploy-target.ts";
import { deploymentLockName, type DeploymentLocks } from "./deployment-lock.ts";
import { forkDeployConfig } from "./fork-deploy.ts";
import { imageRelease } from "./image-release.ts";
import { DeployLog } from "./deploy-log.ts";

/** Where an image already built goes again, and with which settings. */
export interface ImageDeployRequest {
  installationId: number;
  owner: string;
  repo: string;
  /** GitHub's id of the repository now named `owner/repo` (null: unknown, and no secrets go). */
  repositoryId?: number | null;
  target: DeployTarget;
  /** The base branch's `deploy:` block now: the settings the image runs with. */
  deploy: DeployConfig | undefined;
}

/** One app deployed again: the build that made the image (its sha, its PR) and the image by digest. */
export interface ImageStep {
  build: BuildRecord;
  key: DeploymentKey;
  entry: { imageRef: string; digest: string };
}

export interface ImageDeployResult {
  app: string | null;
  sha: string;
  ok: boolean;
  /** How it ended, as GitHub's deployment status says it: `failure` is the user's (a failed release, health check), `error` ours. */
  state: "success" | "failure" | "error";
  url: string | null;
  error: string | null;
}

/**
 * How: a rollback (a new GitHub deployment marked as one), a redeploy of the image that serves
 * (a new deployment, and a fresh instance even though the image already serves), or a deployment
 * someone else made on GitHub (`deploymentId`: its statuses are written, no new one is made).
 */
export interface ImageDeployHow {
  kind: "rollback" | "redeploy" | "deployment";
  deploymentId?: number;
}

export interface ImageDeployDeps {
  deployer: Deployer;
  deployments: DeploymentReporter | null;
  store: Store;
  secrets: SecretSource | null;
  links: LinkSigner;
  log: OpLog;
  /** The deploy stage's locks: never beside a deploy of the same app and target. */
  deployLocks?: DeploymentLocks | null;
}

type Tell = (state: DeploymentState, url: string | null) => Promise<void> | undefined;

const HOW_TEXT: Record<ImageDeployHow["kind"], string> = { rollback: "Rollback", redeploy: "Redeploy", deployment: "A deployment made on GitHub" };

/**
 * Deploys an image microship built before, through the same Deployer as the deploy stage (health
 * check first, the release command before traffic moves; on failure the serving version keeps
 * serving), under the deploy lock. Nothing is rebuilt. A rollback or redeploy writes its own
 * deployment's statuses; a deployment made on GitHub only its preview comment line here (its
 * statuses are written once for all apps: made-deployment.ts). The deployer's lines go to the
 * build's own log, the page the statuses' `log_url` opens, scrubbed and bounded as a build's.
 */
export async function deployImage(deps: ImageDeployDeps, req: ImageDeployRequest, step: ImageStep, how: ImageDeployHow, signal: AbortSignal): Promise<ImageDeployResult> {
  const { build, key, entry } = step;
  const log = deps.log.child({ owner: req.owner, repo: req.repo, environment: key.target.environment, app: key.app, how: how.kind });
  const github = deps.deployments;
  const logUrl = deps.links.detailsUrl(build.id);
  const image = { imageRef: entry.imageRef, digest: entry.digest, ...(how.kind === "redeploy" ? { redeploy: true } : { rollback: true }) };
  const id = how.deploymentId ?? (github ? await github.created(build, key, image).catch(() => null) : null);
  const only = how.kind === "deployment" ? { only: "comment" as const } : {};
  const tell: Tell = (state, url) =>
    github && id !== null ? github.status(build, key, id, state, { url, logUrl, ...only }).catch((err) => log.warn({ err }, "could not write the deployment status")) : undefined;
  const userLog = await DeployLog.open(deps.store, build.id, (err) => log.warn({ err }, "could not store the deploy's lines in the build log"));
  userLog.system(`--- ${HOW_TEXT[how.kind]}: this build's image${key.app ? ` of ${key.app}` : ""} to ${key.target.environment}, ${new Date().toISOString()} ---`);
  let unlock: (() => Promise<void>) | null = null;
  try {
    unlock = deps.deployLocks ? await deps.deployLocks.acquire(deploymentLockName(key), signal) : null;
    return await deployNow(deps, req, step, how, signal, tell, { log, user: userLog });
  } catch (err) {
    // Only the wait for another deploy of this target can end here (its time ran out).
    await tell("error", null);
    userLog.system(`Deploy to ${key.target.environment} did not start: ${err instanceof Error ? err.message : String(err)}`);
    return failed(step, "error", err);
  } finally {
    await unlock?.();
    await userLog.flush();
  }
}

async function deployNow(deps: ImageDeployDeps, req: ImageDeployRequest, { build, key, entry }: ImageStep, how: ImageDeployHow, signal: AbortSignal, tell: Tell, logs: { log: OpLog; user: DeployLog }): Promise<ImageDeployResult> {
  await tell("in_progress", null);
  const fork = build.request.pr?.fork ?? false;
  // A fork's image runs with what a fork's approved preview gets: preview.env, no secrets.
  const deploy = fork ? forkDeployConfig(req.deploy) : req.deploy;
  const settings = deploySettings(deploy, key.target);
  // A restart (redeploy) runs no release command, as on Heroku; a new release of an image does.
  const release = how.kind === "redeploy" ? { release: null, note: null } : imageRelease(build, key.app);
  const user = logs.user;
  try {
    const secrets = fork ? {} : await secretEnv(deps, req, build, deploy?.secrets ?? [], user);
    if (release.note) user.system(release.note);
    user.system(`Deploying to ${key.target.environment} on ${deps.deployer.describe()}.`);
    const result = await deps.deployer.deploy({
      ...key, installationId: req.installationId, sha: build.request.sha, imageRef: entry.imageRef, digest: entry.digest,
      port: settings.port, health: settings.health, expiresAt: settings.expiresAt, idleMinutes: settings.idleMinutes,
      env: { ...secrets, ...settings.env }, signal, log: (text) => user.line(text),
      ...(release.release ? { release: release.release } : {}),
      ...(how.kind === "redeploy" ? { fresh: true } : {}),
    });
    user.system(`Deployed to ${key.target.environment}: ${result.url}`);
    await tell("success", result.url);
    return { app: key.app, sha: build.request.sha, ok: true, state: "success", url: result.url, error: null };
  } catch (err) {
    const users = isMicroshipError(err) && err.kind === "user";
    if (!users) logs.log.error({ err }, "deploying an earlier image failed on our side");
    user.system(`Deploy to ${key.target.environment} failed: ${err instanceof Error ? err.message : String(err)}`);
    await tell(users ? "failure" : "error", null);
    return failed({ build, key, entry }, users ? "failure" : "error", err);
  }
}

function failed({ build, key }: ImageStep, state: "failure" | "error", err: unknown): ImageDeployResult {
  return { app: key.app, sha: build.request.sha, ok: false, state, url: null, error: err instanceof Error ? err.message : String(err) };
}

/**
 * The secrets of the repository deploying now, and only for an image of that repository's own
 * builds: a build made under this name by a repository that had it before (renamed, transferred,
 * the name taken over) runs with this repository's config, so it gets none.
 */
async function secretEnv(deps: ImageDeployDeps, req: ImageDeployRequest, build: BuildRecord, names: string[], user: DeployLog): Promise<Record<string, string>> {
  if (names.length === 0 || !deps.secrets) return {};
  const id = req.repositoryId ?? null;
  const built = build.request.repositoryId ?? null;
  if (id === null || (built !== null && built !== id)) {
    user.system(id === null ? "GitHub did not say which repository this is, so this deploy gets no secrets." : "This image was built by another repository that had this name before, so it gets no secrets.");
    return {};
  }
  const wanted = new Set(names);
  const env: Record<string, string> = {};
  for (const s of await deps.secrets.secretsFor({ ...build.request, repositoryId: id })) {
    if (!wanted.has(s.id)) continue;
    env[s.id] = s.value;
    // The deployer's lines (a release command's output, a failed start's) reach the log: never with these in it.
    registerSecret(s.value);
  }
  return env;
}
