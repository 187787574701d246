import { lstat, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { procStat } from "./proc-stat.ts";

export interface QemuIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
  startTime: string;
}

/** The identity of a running process, to find it again later without mistaking a reused pid for it. */
export function qemuIdentity(pid: number): QemuIdentity | null {
  const s = procStat(pid);
  return s ? { pid, startTime: s.startTime } : null;
}

/**
 * Kills a QEMU a killed microship left running (a deploy VM's QEMU is not killed with its parent:
 * nothing ties it to microship's life), but only if the pid still names the same process: same
 * start time, a QEMU's name, not already a zombie. True when it was there and is now gone.
 */
export async function killStaleQemu(id: QemuIdentity, waitMs = 10_000): Promise<boolean> {
  const s = procStat(id.pid);
  if (!s || s.startTime !== id.startTime || !s.comm.startsWith("qemu-system") || s.state === "Z") return false;
  try {
    process.kill(id.pid, "SIGKILL");
  } catch {
    return false;
  }
  for (let waited = 0; waited < waitMs; waited += 50) {
    const now = procStat(id.pid);
    if (!now || now.startTime !== id.startTime || now.state === "Z") return true;
    await sleep(50);
  }
  return true;
}

// mkdtemp's names in deploy-vm.ts: six random characters after the prefix.
const VM_DIR = /^msdeploy-(net-)?[A-Za-z0-9]{6}$/;

/** Removes a killed VM's temporary dirs: only our own names directly in the temp dir, never through a symlink. */
export async function removeVmDirs(dirs: readonly string[]): Promise<void> {
  for (const d of dirs.slice(0, 2)) {
    if (dirname(d) !== tmpdir() || !VM_DIR.test(basename(d))) continue;
    const st = await lstat(d).catch(() => null);
    if (st?.isDirectory()) await rm(d, { recursive: true, force: true });
  }
}
