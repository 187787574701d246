import type { BuildRecord } from "./build.ts";

export interface ClaimOptions {
  workerId: string;
  leaseMs: number;
  /** Builds running at once across every worker sharing this queue. */
  maxRunning: number;
  now?: number;
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
 * `recoverExpired` hands the job back. Claims are fair across installations: the
 * installation with the fewest running builds goes first, then the oldest job.
 */
export interface Queue {
  claim(options: ClaimOptions): Promise<BuildRecord | null>;
  heartbeat(id: string, workerId: string, leaseMs: number, now?: number): Promise<HeartbeatResult>;
  /**
   * Running builds whose lease lapsed: those taken fewer than `maxTries` times go back to
   * the queue, the rest are returned so their check runs can be concluded. The builds `own`
   * lists are still running in the caller: their leases are renewed instead, since only a
   * stalled event loop let them lapse.
   */
  recoverExpired(maxTries: number, now?: number, own?: OwnLeases): Promise<{ requeued: BuildRecord[]; abandoned: BuildRecord[] }>;
  depth(): Promise<number>;
}
