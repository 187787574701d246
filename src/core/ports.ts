import type { BuildRecord, BuildOutcome } from "./build.ts";
import type { BuildPlan, BuildRequest, Conclusion } from "./types.ts";
import type { MicroshipError } from "./errors.ts";
import type { LogLine, SourceArchive, BuildSecret } from "./builder.ts";
import type { RepoConfig, RepoConfigResult } from "./repo-config.ts";

/** The seams the pipeline depends on. main.ts wires the concrete classes; tests pass their own. */

export interface Checkout {
  dir: string;
  cleanup(): Promise<void>;
  /** The commit's subject as git read it (bounded, not yet cleaned: see core/commit-subject.ts); absent when unknown. */
  subject?: string | null;
}

export interface SourceFetcher {
  /** Fetches exactly `request.sha` into a fresh temp dir. */
  checkout(request: BuildRequest, signal: AbortSignal): Promise<Checkout>;
}

export interface ConfigSource {
  /** The repo config at the checked-out sha (with `_extends` resolved), or null when there is none. */
  load(request: BuildRequest, checkoutDir: string): Promise<RepoConfigResult | null>;
}

export type PlanOutcome = { ok: true; plan: BuildPlan } | { ok: false; app: string | null; error: MicroshipError };

export interface Planner {
  plan(repoDir: string, config: RepoConfig | null): Promise<PlanOutcome[]>;
}

export interface Archiver {
  /** A tar.gz of `appDir` with the plan's Dockerfile and .dockerignore applied. */
  archive(appDir: string, plan: BuildPlan, outPath: string): Promise<SourceArchive>;
}

export interface ImageTarget {
  imageName: string;
  tags: string[];
}

export interface ImageNamer {
  target(request: BuildRequest, plan: BuildPlan): ImageTarget;
}

/** HTTP Basic credentials for a registry. Never logged, never in argv. */
export interface RegistryCredential {
  username: string;
  password: string;
}

export interface RegistryCredentials {
  /**
   * A credential that pushes only `target`'s tags, only under the request's own `{owner}/{repo}`,
   * and expires after `ttlSeconds`; null when the registry isn't ours to hand out credentials for.
   */
  forBuild(buildId: string, request: BuildRequest, target: ImageTarget, ttlSeconds: number): RegistryCredential | null;
}

export interface SecretSource {
  /** Build secrets for a repo; never called for fork PRs. */
  secretsFor(request: BuildRequest): Promise<BuildSecret[]>;
}

/** A check run to write: the build's main run (`app` null) or one app's run in a multi-app repo. */
export interface RunRef {
  build: BuildRecord;
  app: string | null;
  checkRunId: number | null;
}

export interface ChecksReporter {
  /** Creates the run as queued; returns its id. */
  queued(build: BuildRecord): Promise<number>;
  /** Marks it in progress, creating it first when `checkRunId` is null; returns its id. */
  started(run: RunRef, builder: string): Promise<number>;
  /** Replaces the text with the log's tail. Callers throttle (at most every 5 s per run). */
  progress(run: RunRef & { checkRunId: number }, tail: LogLine[], phase: string): Promise<void>;
  completed(run: RunRef & { checkRunId: number }, outcome: BuildOutcome, tail: LogLine[], detailsUrl: string): Promise<void>;
  /** A comment on the PR, for replies to /rebuild. */
  comment?(build: BuildRecord, body: string): Promise<void>;
}

export interface Metrics {
  delivery(event: string, outcome: string): void;
  buildFinished(conclusion: Conclusion): void;
  phase(phase: string, ms: number): void;
}

export const noMetrics: Metrics = { delivery() {}, buildFinished() {}, phase() {} };

/** A minimal logger shape so core needs no logging package. pino's Logger satisfies it. */
export interface OpLog {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): OpLog;
}

export interface LinkSigner {
  /** The capability URL of a build's full log page. */
  detailsUrl(buildId: string): string;
}

/** A repository a signed-in user may see, through one of the app's installations they can access. */
export interface VisibleRepo {
  owner: string;
  repo: string;
  installationId: number;
}

/** GitHub as the dashboard sees it: the app's own OAuth (user-to-server tokens) and what a user may see or do. */
export interface GitHubUsers {
  /** Where to send the browser to sign in; `state` comes back with the code. */
  authorizeUrl(state: string, redirectUri: string): string;
  /** The user's token for the callback's code; throws when GitHub refuses the code. */
  exchangeCode(code: string, redirectUri: string): Promise<string>;
  viewer(token: string): Promise<{ login: string; id: number }>;
  /** The repositories GitHub lists for the user through the app's installations (bounded). */
  repositories(token: string): Promise<VisibleRepo[]>;
  /** Write, maintain or admin, as the /rebuild command checks it (the installation asks GitHub). */
  canWrite(installationId: number, owner: string, repo: string, login: string): Promise<boolean>;
  /** Admin of the repository (its secrets are theirs to change); absent: nobody is. */
  isAdmin?(installationId: number, owner: string, repo: string, login: string): Promise<boolean>;
  /** GitHub's id of the repository now named `owner/repo` (asked through the installation, never cached): what its secrets are kept under. */
  repositoryId?(installationId: number, owner: string, repo: string): Promise<number>;
}
