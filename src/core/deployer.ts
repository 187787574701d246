import type { BuildRecord } from "./build.ts";
import type { DeployTarget } from "./deploy/deploy-target.ts";
import { MicroshipError } from "./errors.ts";

/** The Deployer port: runs a pushed image as a preview or an environment, and removes it again. */

/** Which deployment: one per repo, app and target. */
export interface DeploymentKey {
  owner: string;
  repo: string;
  /** The app of a multi-app repo; null for the single app. */
  app: string | null;
  target: DeployTarget;
}

export interface DeployInput extends DeploymentKey {
  /** The GitHub App installation the repo belongs to; tagged on what runs, for the reconciler. */
  installationId: number;
  /** The commit built; tagged on what runs. */
  sha: string;
  /** A preview's end (deploy time + preview.ttl_days); null for environments. Recorded on what runs. */
  expiresAt: Date | null;
  /** A preview sleeps after this long without a request (preview.idle_minutes); null: never. */
  idleMinutes: number | null;
  /** Pullable by digest: registry/owner/repo@sha256:... */
  imageRef: string;
  digest: string;
  /** The port the app listens on; $PORT is set to it in `env`. */
  port: number;
  /** The HTTP path that must answer before traffic moves. */
  health: string;
  /** The instance's environment; secret values among it are never logged. */
  env: Record<string, string>;
  signal: AbortSignal;
  /** A line for the user's build log. */
  log(text: string): void;
  /**
   * `deploy.release`: a shell command run once in the new image (with `env`) before traffic
   * moves; a non-zero exit stops the deploy and the old version keeps serving. Absent: none.
   */
  release?: string;
  /**
   * A redeploy: start a new instance even when this image already serves, health-check it, move
   * traffic and stop the old one (the backend names it apart from the serving one). Absent: an
   * image that already serves healthy is left as it is.
   */
  fresh?: boolean;
}

export interface DeployResult {
  /** Where the deployment answers. */
  url: string;
  /** The backend's name for what now serves it. */
  instance: string;
  /** What served it before and was removed, if anything. */
  replaced: string[];
}

export interface Deployer {
  readonly name: string;
  describe(): string;
  /**
   * Starts the image next to whatever serves the deployment now, waits until its health path
   * answers, moves traffic to it and removes the old. A failure leaves the old one serving.
   */
  deploy(input: DeployInput): Promise<DeployResult>;
  /**
   * What runs now, as the backend itself records it (tags, labels), so a restarted microship,
   * the reconciler and the dashboard see the truth, orphans included. `repo` narrows to one repo.
   */
  list(filter: { owner: string; repo: string } | null, signal: AbortSignal): Promise<LiveDeployment[]>;
  /** Removes the target's instances, of every app of the repo; how many went. Idempotent. */
  teardown(key: Omit<DeploymentKey, "app">, signal: AbortSignal): Promise<number>;
  /**
   * Optional: stops a running instance and keeps it to start again (`sleeping`), as a preview's
   * idle time does. Idempotent: one asleep stays so. Its state after; InstanceNotFoundError when
   * the backend has no such instance of that repo, a user error when its state can't sleep.
   */
  sleep?(key: InstanceKey, signal: AbortSignal): Promise<LiveDeployment["state"]>;
  /**
   * Optional: starts a sleeping instance again as a request to it would. Idempotent: one awake
   * stays so. The signal ends the wait, never the start (which goes on, as for a request).
   */
  wake?(key: InstanceKey, signal: AbortSignal): Promise<LiveDeployment["state"]>;
  close?(): Promise<void>;
}

/** One instance, as list() reports it (`instance`), of one repository. */
export interface InstanceKey {
  owner: string;
  repo: string;
  instance: string;
}

/** sleep or wake of an instance the backend doesn't have (any more) for that repository. */
export class InstanceNotFoundError extends MicroshipError {
  constructor(key: InstanceKey) {
    super("user", `There is no instance ${key.instance.slice(0, 200)} of ${key.owner}/${key.repo}.`, { title: "Not found" });
    this.name = "InstanceNotFoundError";
  }
}

/** The deployer's sleep and wake, when it has both. */
export function sleepable(d: Deployer | null | undefined): d is Deployer & Required<Pick<Deployer, "sleep" | "wake">> {
  return typeof d?.sleep === "function" && typeof d.wake === "function";
}

/** One instance serving (or asleep for) a deployment, as the backend reports it. */
export interface LiveDeployment extends DeploymentKey {
  installationId: number;
  sha: string;
  /** The backend's name for it. */
  instance: string;
  url: string;
  imageRef: string;
  digest: string;
  /** When it was started: a target's newest instance dates its last deploy (its last push). */
  createdAt: Date;
  /** As deployed (DeployInput.expiresAt); null: never expires. */
  expiresAt: Date | null;
  state: "starting" | "running" | "sleeping" | "stopped" | "failed";
}

/** What the check run shows of a deploy. */
export interface DeployReport {
  /** The GitHub environment: `preview/pr-{n}` or the environment's name. */
  environment: string;
  ok: boolean;
  url: string | null;
  /** Why it failed, in the user's words; null on success. */
  error: string | null;
  /** What the user should know either way (secrets named but not set), without any value. */
  notes?: string[];
}

/** The image a deployment ran, as kept in its GitHub payload. */
export interface DeployedImage {
  imageRef: string;
  digest: string;
  /** A rollback's deployment: `/rollback` steps over it to the image before. */
  rollback?: boolean;
  /** A redeploy of the image that served: stepped over by `/rollback` as a rollback's is. */
  redeploy?: boolean;
}

/** `inactive`: the deploy was cancelled (a newer push, a closed PR) before it finished. */
export type DeploymentState = "in_progress" | "success" | "failure" | "error" | "inactive";

export interface StatusOptions {
  url: string | null;
  logUrl: string;
  /** At most 140 characters, GitHub's limit. */
  description?: string;
  only?: "status" | "comment";
  /** The deployment carries every app of the sha (one made on GitHub), not just `key.app`'s. */
  allApps?: boolean;
}

/** GitHub's side of deploys (deployments, their statuses, the PR's preview comment); only src/github/reporter/ implements it. */
export interface DeploymentReporter {
  /**
   * Creates the deployment for the build's sha, queued; its id, or null when GitHub would not take
   * one. `image` goes into the deployment's payload, which is what `/rollback` reads back later.
   */
  created(build: BuildRecord, key: DeploymentKey, image?: DeployedImage): Promise<number | null>;
  /**
   * Writes the deployment's status and, for a preview, the app's line in the PR's comment.
   * `description` replaces the state's own words; `only` writes just one of the two (a deployment
   * made on GitHub gets one status for all its apps, and a comment line per app).
   */
  status(build: BuildRecord, key: DeploymentKey, deploymentId: number, state: DeploymentState, o: StatusOptions): Promise<void>;
  /** A pull request's preview is gone (its PR closed, or its TTL passed): its deployments inactive, its comment saying so. */
  previewRemoved(installationId: number, owner: string, repo: string, prNumber: number, reason?: "closed" | "expired"): Promise<void>;
}
