import type { BuildRecord, BuildOutcome } from "./build.ts";
import type { BuildRequest, BuildState, Conclusion, PullRequestRef } from "./types.ts";
import type { LogLine } from "./builder.ts";

export type SubmitResult =
  | { kind: "duplicate-delivery" }
  | { kind: "existing"; build: BuildRecord }
  | { kind: "created"; build: BuildRecord; supersededQueued: BuildRecord[]; supersededRunning: BuildRecord[] };

export interface LogPage {
  lastSeq: number;
  lines: LogLine[];
}

export interface LogTail {
  /** The page starts after this chunk (-1: at the start). */
  afterSeq: number;
  /** Bytes as stored (JSON), so about the text's size. */
  totalBytes: number;
  skippedBytes: number;
}

/** A page of the builds list: every field but `repos`, `limit` and `offset` narrows it further. */
export interface BuildListQuery {
  /** Only builds of these repositories ("owner/repo", compared without case): what the reader may see. */
  repos: readonly string[];
  /** One "owner/repo". */
  repo?: string;
  branch?: string;
  pr?: number;
  state?: BuildState;
  /** The outcome's builder line, exactly (builds not finished have none). */
  builder?: string;
  /** At most 100. */
  limit: number;
  offset: number;
}

/**
 * Durable state. Methods are async so a networked implementation (Postgres) fits the same
 * interface; the SQLite one answers synchronously inside.
 */
export interface Store {
  /**
   * Atomically:
   *  - records the delivery; a delivery id seen before (by submit or recordDelivery) is a no-op
   *    ("duplicate-delivery");
   *  - a PR request records its PR as the sha's (prForSha; the latest PR wins);
   *  - unless it is an explicit re-run, shares the latest build of the same (owner, repo, sha)
   *    at the same trust level (core/trust.ts), finished or not ("existing"); a PR request
   *    sharing a build made without a PR attaches its PR (and, if the build had none, its
   *    fetchRef) to that build's request;
   *  - otherwise creates a queued build ("created"), attempt one more than the sha's highest
   *    at either level, and stops the builds it supersedes (core/supersede.ts decides which):
   *    queued ones end now as cancelled, running ones are asked to stop; both get supersededBy.
   */
  submit(request: BuildRequest, now?: number): Promise<SubmitResult>;
  /**
   * A closed PR: its unfinished builds that core/supersede.ts closedPullRequestStops picks stop
   * (queued ones end now as cancelled, running ones are asked to); supersededBy is left alone.
   */
  cancelPullRequest(owner: string, repo: string, prNumber: number, now?: number): Promise<{ queued: BuildRecord[]; running: BuildRecord[] }>;
  /** Records a delivery that does not start a build; false when it was seen before. */
  recordDelivery(deliveryId: string, event: string): Promise<boolean>;
  getBuild(id: string): Promise<BuildRecord | null>;
  /** The latest build of a sha at one trust level (see core/trust.ts): the levels never share a build. */
  latestBuildForSha(owner: string, repo: string, sha: string, trusted: boolean): Promise<BuildRecord | null>;
  /** Unfinished builds still waiting for their first check run, oldest first (the notifier creates them). */
  buildsWithoutCheckRun(limit: number): Promise<BuildRecord[]>;
  /**
   * Stores the build's run id unless it has one already, and returns the id it has: the first one
   * stored wins. Two openers can race past the build lock (a Postgres restart drops advisory
   * locks), and each must learn which run the build keeps.
   */
  setCheckRunId(id: string, checkRunId: number): Promise<number>;
  /**
   * Check runs of the apps of a multi-app repo (`microship/<name>`), so a crash can still conclude
   * them: one per (build, app); setting it again replaces it and opens it again. openAppCheckRuns
   * lists a build's runs not marked completed, by app name.
   */
  setAppCheckRun(id: string, app: string, checkRunId: number): Promise<void>;
  markAppCheckRunCompleted(id: string, app: string): Promise<void>;
  openAppCheckRuns(id: string): Promise<{ app: string; checkRunId: number }[]>;
  /**
   * Ends a build for good (clearing its lease); returns false if it had already ended or is
   * unknown. A build cancelled while queued has no outcome yet: it completes once more, keeping
   * its completedAt.
   */
  complete(id: string, conclusion: Conclusion, outcome: BuildOutcome, now?: number): Promise<boolean>;
  prForSha(owner: string, repo: string, sha: string): Promise<PullRequestRef | null>;
  /**
   * Sets the request's commitMessage, the builds list's first line (core/commit-subject.ts), when
   * it has none (a PR, /rebuild or /deploy request carries none; the checkout reads it). One it
   * has is kept; an unknown build is left alone.
   */
  setCommitMessage(id: string, message: string): Promise<void>;
  /**
   * Stores the lines as the build's next chunk, numbered 0, 1, 2... per build; no lines, no chunk.
   * `now` is when the log was written, what its retention counts from (to within a minute).
   */
  appendLog(id: string, lines: LogLine[], now?: number): Promise<void>;
  /** The whole log at once: only for small logs and tests; pages read it with readLogPage. */
  readLog(id: string): Promise<LogLine[]>;
  /**
   * The log's chunks after `afterSeq`, in order, up to about `maxBytes` (always at least one
   * chunk, at most 256 chunks); null at the end. `lastSeq` is where the next page starts.
   */
  readLogPage(id: string, afterSeq: number, maxBytes: number): Promise<LogPage | null>;
  /**
   * Where a page showing the last `maxBytes` of the log starts (the newest chunk always shows,
   * older ones while they fit), and the stored size of it all.
   */
  logTail(id: string, maxBytes: number): Promise<LogTail>;
  /**
   * Deletes up to `limit` stored log chunks of builds that ended (completedAt) before `time` and
   * whose log was last written before it too (a later deploy of the build's image writes there);
   * returns how many it deleted, so a caller deletes in small steps until 0 and never holds the
   * database long. It finds them by the last write's index, never by reading every chunk.
   */
  deleteLogsBefore(time: number, limit: number): Promise<number>;
  countByState(): Promise<Record<string, number>>;
  /**
   * Optional, for stores that several processes share (Postgres): runs `fn` while holding a lock
   * on the build that every process over this database honours, so two replicas never open a
   * check run for one build at once. A store only one process uses leaves it out.
   */
  withBuildLock?<T>(id: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Optional, for stores that several processes share (Postgres): takes the lock named `name`
   * if no process over this database holds it, and returns what frees it; null when it is held.
   * The lock dies with its holder's connection, so a killed process never keeps it.
   */
  tryLock?(name: string): Promise<(() => Promise<void>) | null>;
  /** Builds matching `query`, newest first (createdAt, then id, descending). At most 1000 repos. */
  listBuilds(query: BuildListQuery): Promise<BuildRecord[]>;
  /**
   * Stops one build as a closed PR stops its builds: queued, it ends now as cancelled; running,
   * it is asked to stop. Returns the build as it then is, or null when unknown or already ended.
   */
  cancelBuild(id: string, now?: number): Promise<BuildRecord | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
