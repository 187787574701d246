import type { BuildRecord } from "./build.ts";

export interface ClaimOptions {
  workerId: string;
  leaseMs: number;
  /** Builds running at once across every worker sharing this queue. */
  maxRunning: number;
  now?: number;
  /**
   * The host this worker builds on, whose layer cache it fills (see cache affinity below).
   * Unset: no affinity. The SQLite queue ignores it: one process on one host.
   */
  hostId?: string;
  /** How long after its creation a build is left to the host its cache scope last ran on; 0: no affinity. */
  affinityMs?: number;
}

export interface OwnLeases {
  workerId: string;
  buildIds: readonly string[];
  leaseMs: number;
}

export interface HeartbeatResult {
  /** False when the lease was lost (another worker took the job after it lapsed). */
  held: boolean;
  cancelRequested: boolean;
}

/**
 * Leases with heartbeats: a worker that dies stops renewing, the lease lapses, and
 * `recoverExpired` hands the job back. Every instance over one database is one queue: two
 * workers (processes) never both claim a build, and maxRunning counts the running builds of all.
 *
 * The order of claims is part of the contract (test/helpers/store-queue-contract.ts checks it),
 * kept in each adapter's query so a claim never reads the whole queue:
 *  - only queued builds are claimed, and none while `maxRunning` builds run (abandoned builds
 *    still count as running until they complete);
 *  - a default-branch build (core/supersede.ts isDefaultBranchBuild, as created) is skipped
 *    while another default-branch build of the same repository and branch runs: those queue
 *    one at a time, never cancel;
 *  - fairness: of the rest, the build whose installation has the fewest running builds goes
 *    first, then the oldest (createdAt).
 *  - cache affinity (adapters shared by several hosts; Postgres): a claim with `hostId` records
 *    that host as the last one of the build's cache scope (`{owner}/{repo}`, `/pr-{n}` for a
 *    fork PR); a build whose scope last ran on another host is skipped by this one until
 *    createdAt + affinityMs, so its host gets it first, and anyone takes it after that.
 */
export interface Queue {
  /**
   * Takes the next build (see the order above): it becomes running, leased to `workerId` until
   * now + leaseMs, tries + 1, startedAt set on its first claim only. Null when none may run.
   */
  claim(options: ClaimOptions): Promise<BuildRecord | null>;
  /**
   * Renews the lease to now + leaseMs if `workerId` still holds it on a running build (held),
   * and says whether the build was asked to stop (superseded, its PR closed).
   */
  heartbeat(id: string, workerId: string, leaseMs: number, now?: number): Promise<HeartbeatResult>;
  /**
   * Running builds whose lease lapsed (its expiry is before `now`): those taken fewer than
   * `maxTries` times and not asked to stop go back to the queue (no lease), the rest are
   * returned so their check runs can be concluded; recovery holds those for a minute, so a
   * sweep in that minute skips them and a later one returns them again if they never completed.
   * The builds `own` lists are still running in the caller: the ones its worker still holds get
   * their leases renewed to now + own.leaseMs instead, since only a stalled event loop let them
   * lapse.
   */
  recoverExpired(maxTries: number, now?: number, own?: OwnLeases): Promise<{ requeued: BuildRecord[]; abandoned: BuildRecord[] }>;
  /** How many builds are queued. */
  depth(): Promise<number>;
}
