/** The domain types every layer shares. This module imports no SDK. */

export type Trigger =
  | "push"
  | "pull_request"
  | "rebuild_comment"
  | "deploy_comment"
  | "check_run_rerequested"
  | "check_suite_rerequested"
  | "requested_action"
  | "dashboard";

export interface PullRequestRef {
  number: number;
  /** True when the head lives in another repository: no secrets, no shared cache writes. */
  fork: boolean;
  /** owner/name of the head repository. */
  headRepo: string;
  headRef: string;
  baseRef: string;
}

/** What a webhook handler produces: everything a worker needs, and nothing from the payload beyond it. */
export interface BuildRequest {
  deliveryId: string;
  trigger: Trigger;
  installationId: number;
  owner: string;
  repo: string;
  /** GitHub's repository id, which a rename or transfer keeps and no other repository ever gets; null or absent in a request stored before it was recorded. */
  repositoryId?: number | null;
  defaultBranch: string;
  sha: string;
  /** Branch name without refs/heads/, or null when unknown (a fork PR's head seen from a check event). */
  branch: string | null;
  pr: PullRequestRef | null;
  /** The ref to fetch when the sha is not reachable from the repo's own branches (fork PRs: pull/N/head). */
  fetchRef: string | null;
  noCache: boolean;
  requestedBy: string;
  /** Paths a push touched, for the `paths` filter; null when unknown (then the filter does not skip). */
  changedPaths: string[] | null;
  /** An explicit re-run (button, re-run, /rebuild) builds a sha again; anything else shares the existing build. */
  rerun: boolean;
  /** The head commit's first line, when the event carried it (a push); shown by the dashboard. */
  commitMessage?: string | null;
  /** `/deploy` by a writer on a fork PR: this sha's preview may deploy, with these settings only. */
  forkDeploy?: import("./deploy/fork-deploy.ts").ForkDeploy | null;
}

export type BuildState = "queued" | "running" | "completed";

export type Conclusion =
  | "success"
  | "failure"
  | "neutral"
  | "cancelled"
  | "timed_out"
  | "action_required"
  | "skipped";

/** The wait in the queue, then each stage's phase: a stage added to src/core/stages/stage-list.ts adds its own. */
export type Phase = "queue" | (typeof import("./stages/stage-list.ts").STAGES)[number]["phase"];

export type PhaseTimings = Partial<Record<Phase, number>>;

export interface ImageInfo {
  /** Pullable reference by digest: registry/owner/repo@sha256:... */
  ref: string;
  digest: string;
  name: string;
  tags: string[];
  sizeBytes: number | null;
}

export interface UserMessage {
  level: "info" | "warning" | "error";
  text: string;
  file?: string;
  line?: number;
}

export interface VersionChoice {
  value: string;
  /** Where it came from, e.g. "engines.node in package.json" or "default". */
  source: string;
}

export interface PackageManagerChoice {
  name: string;
  /** Why we think so, e.g. "pnpm-lock.yaml". */
  evidence: string;
}

/** What detection decided for one app. Never null: a failure to plan is a PlanResult with ok=false. */
export interface BuildPlan {
  /** App name for multi-app repos (check run `microship/<name>`), null for the single default app. */
  app: string | null;
  /** App root relative to the repo root, "." for the whole repo. */
  root: string;
  /**
   * The build context's directory relative to the repo root, when it is not the app root: a
   * package of a workspace is built from the workspace root, which holds the lockfile; a
   * Dockerfile of the repo's own from the context `context:` or its compose file names (set then
   * even when it is the app root, so the story tells it).
   */
  contextRoot?: string;
  /** Seed-style runtime id: nodejs24, python312, or "dockerfile" for the repo's own Dockerfile. */
  runtime: string;
  provider: string;
  version: VersionChoice | null;
  packageManager: PackageManagerChoice | null;
  installCommand: string | null;
  buildCommand: string | null;
  startCommand: string | null;
  /** Files copied before the source, for layer caching. */
  cacheFiles: string[];
  /** The Dockerfile text the builder gets. */
  dockerfile: string;
  /** Repo-relative path when the repo's own Dockerfile is used. */
  dockerfilePath: string | null;
  /** A generated .dockerignore when the repo has none. */
  dockerignore: string | null;
  buildArgs: Record<string, string>;
  env: Record<string, string>;
  /** Image name template from config, if any. */
  imageTemplate: string | null;
  timeoutSeconds: number | null;
  messages: UserMessage[];
  /** A command to run once per deploy before traffic moves (a Procfile's `release:` line); `deploy.release` wins. */
  release?: string | null;
}

export interface Provenance {
  sourceHash: string | null;
  lockfileHashes: Record<string, string>;
  baseImageDigest: string | null;
  builderVersion: string | null;
}

/** A GitHub repository id that may key secrets: a positive safe integer, as GitHub gives them. */
export function isRepositoryId(id: unknown): id is number {
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0;
}
