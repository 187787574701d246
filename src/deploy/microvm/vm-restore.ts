import type { VmOutcome } from "../../builder/microvm/run-vm.ts";
import type { DeployVm } from "./deploy-vm.ts";
import type { SavedVm } from "./saved-vm.ts";
import type { LoadedVm } from "./vm-state-store.ts";
import type { VmRecord } from "./vm-record.ts";

/**
 * Which saved VMs come back: one per deployment name, the newest that served (its route had moved
 * to it), else the newest that was still starting (a first deploy cut short; the deploy runs
 * again when its build resumes). The others were being replaced or had failed when microship died.
 */
export function chooseRestored(all: LoadedVm[]): { keep: LoadedVm[]; drop: LoadedVm[] } {
  const best = new Map<string, LoadedVm>();
  const rank = (s: SavedVm) => [s.state === "running" ? 1 : 0, Date.parse(s.createdAt)] as const;
  for (const l of all) {
    const cur = best.get(l.saved.name);
    const [a1, a2] = rank(l.saved);
    const [b1, b2] = cur ? rank(cur.saved) : [-1, -1];
    if (a1 > b1 || (a1 === b1 && a2 > b2)) best.set(l.saved.name, l);
  }
  const keep = [...best.values()];
  return { keep, drop: all.filter((l) => !keep.includes(l)) };
}

const NOT_RUNNING: VmOutcome = { result: null, problem: null, exitCode: null, killedBy: null, stderrTail: "" };

/** A VM that isn't running: what a restored record holds until a request (or an environment's start) wakes it. */
export function stoppedVm(): DeployVm {
  return { hostPort: 0, pid: Promise.resolve(null), dirs: [], exited: Promise.resolve(NOT_RUNNING), tail: () => "", stop: async () => undefined };
}

/** A saved VM as the deployer's record of a sleeping VM: list() shows it, a request wakes it. */
export function sleepingRecord(s: SavedVm): VmRecord {
  const rec: VmRecord = {
    owner: s.owner, repo: s.repo, app: s.app, target: s.target, installationId: s.installationId, sha: s.sha,
    expiresAt: s.expiresAt ? new Date(s.expiresAt) : null, idleMinutes: s.idleMinutes, imageRef: s.imageRef, digest: s.digest,
    port: s.port, health: s.health, name: s.name, instance: s.instance, vm: stoppedVm(), createdAt: new Date(s.createdAt),
    state: "sleeping", stopping: true,
  };
  if (s.release !== undefined) rec.release = s.release;
  return rec;
}

/** What the state dir keeps of a record (its env and QEMU's identity apart). */
export function savedOf(rec: VmRecord, qemu: SavedVm["qemu"]): SavedVm {
  const s: SavedVm = {
    v: 1, name: rec.name, instance: rec.instance, state: rec.state === "starting" ? "starting" : "running",
    owner: rec.owner, repo: rec.repo, app: rec.app, target: { kind: rec.target.kind, environment: rec.target.environment, slug: rec.target.slug, transient: rec.target.transient, production: rec.target.production },
     installationId: rec.installationId, sha: rec.sha,
    imageRef: rec.imageRef, digest: rec.digest, port: rec.port, health: rec.health, idleMinutes: rec.idleMinutes,
    expiresAt: rec.expiresAt?.toISOString() ?? null, createdAt: rec.createdAt.toISOString(), qemu,
  };
  if (rec.release !== undefined) s.release = rec.release;
  return s;
}
