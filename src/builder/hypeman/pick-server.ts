import type { Resources } from "@onkernel/hypeman/resources/resources";

/** What one build takes on a server: Hypeman's default builder VM (2 vCPUs, 2 GiB). */
export const BUILD_NEED = { cpu: 2, memoryBytes: 2 * 1024 ** 3 } as const;

/** A server's free room as last read, less what we placed on it since. */
export interface FreeRoom {
  cpu: number;
  memoryBytes: number;
  /** The smaller of free CPU and free memory, each as a share of the server's effective limit. */
  share: number;
}

export interface Candidate {
  url: string;
  /** null: the server does not report its resources (an older API); taken as having room. */
  free: FreeRoom | null;
}

/** Reads `GET /resources` as free room; a missing or zero limit counts as no room. */
export function freeRoom(r: Pick<Resources, "cpu" | "memory">): FreeRoom {
  const cpu = Math.max(0, Number(r.cpu?.available) || 0);
  const memoryBytes = Math.max(0, Number(r.memory?.available) || 0);
  const cpuLimit = Number(r.cpu?.effective_limit) || 0;
  const memLimit = Number(r.memory?.effective_limit) || 0;
  const share = cpuLimit > 0 && memLimit > 0 ? Math.min(cpu / cpuLimit, memoryBytes / memLimit) : 0;
  return { cpu, memoryBytes, share };
}

/** The room left after `builds` more builds were placed on it. */
export function lessPlaced(free: FreeRoom, builds: number): FreeRoom {
  if (builds <= 0) return free;
  const cpu = Math.max(0, free.cpu - builds * BUILD_NEED.cpu);
  const memoryBytes = Math.max(0, free.memoryBytes - builds * BUILD_NEED.memoryBytes);
  // Scale the share down with the resource that shrank the most.
  const ratio = Math.min(free.cpu > 0 ? cpu / free.cpu : 0, free.memoryBytes > 0 ? memoryBytes / free.memoryBytes : 0);
  return { cpu, memoryBytes, share: free.share * ratio };
}

export function hasRoom(free: FreeRoom | null): boolean {
  return free === null || (free.cpu >= BUILD_NEED.cpu && free.memoryBytes >= BUILD_NEED.memoryBytes);
}

/**
 * The server for one build, among those that are up: the one that last built the build's scope
 * while it has room for another build (its layer cache is there), else the one with the largest
 * free share. When none has room, the freest still takes it: Hypeman queues builds itself, and a
 * full pool is better served late than refused. Ties go to the earlier server in the list.
 */
export function pickServer(candidates: readonly Candidate[], affinity: string | null): Candidate | null {
  if (candidates.length === 0) return null;
  const home = affinity ? candidates.find((c) => c.url === affinity) : undefined;
  if (home && hasRoom(home.free)) return home;
  let best = candidates[0]!;
  for (const c of candidates.slice(1)) if (rank(c) > rank(best)) best = c;
  return best;
}

/** Room first, then the free share; a server that reports nothing ranks below any that has room. */
function rank(c: Candidate): number {
  if (c.free === null) return 1;
  return (hasRoom(c.free) ? 2 : 0) + c.free.share;
}
