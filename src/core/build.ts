import type { BuildRequest, BuildState, Conclusion, ImageInfo, PhaseTimings, UserMessage } from "./types.ts";
import type { ErrorKind, ErrorLocation } from "./errors.ts";
import type { DeployReport } from "./deployer.ts";

/** What the user is told about a finished build; rendered into the check run by the reporter. */
export interface BuildOutcome {
  conclusion: Conclusion;
  title: string;
  /** Plain facts; the reporter renders the Markdown. */
  runtime: string | null;
  detection: string | null;
  builder: string | null;
  image: ImageInfo | null;
  archive: { sizeBytes: number; fileCount: number } | null;
  phases: PhaseTimings;
  error: { kind: ErrorKind; message: string; hint: string | null; location: ErrorLocation | null } | null;
  messages: UserMessage[];
  /** Set when a newer build replaced this one. */
  supersededBy: { buildId: string; sha: string } | null;
  /** Why nothing was built (branch or path filters). */
  skippedReason: string | null;
  /** The deploy after push, when there was one; its failure does not fail the build. */
  deploy?: DeployReport | null;
  /**
   * The image's release command as this build's deploy stage resolved it (its commit's
   * `deploy.release`, else its Procfile's line; null: none, as for a fork), kept so a rollback or
   * a deployment made on GitHub runs the command that belongs to this image. Absent: not recorded.
   */
  release?: string | null;
  /** A multi-app repo's apps, each with its own conclusion (the dashboard lists them) and release command. */
  apps?: { name: string; conclusion: Conclusion; release?: string | null }[];
}

export interface BuildRecord {
  id: string;
  request: BuildRequest;
  /** 0 for the first build of a sha; each explicit re-run adds one. */
  attempt: number;
  state: BuildState;
  conclusion: Conclusion | null;
  checkRunId: number | null;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  cancelRequested: boolean;
  supersededBy: string | null;
  /** How many times a worker has taken it (a crash makes it more than one). */
  tries: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  outcome: BuildOutcome | null;
}

export function emptyOutcome(conclusion: Conclusion, title: string): BuildOutcome {
  return {
    conclusion,
    title,
    runtime: null,
    detection: null,
    builder: null,
    image: null,
    archive: null,
    phases: {},
    error: null,
    messages: [],
    supersededBy: null,
    skippedReason: null,
  };
}
