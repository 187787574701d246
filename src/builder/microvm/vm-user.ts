import { randomInt } from "node:crypto";
import { execa } from "execa";
import { infraError } from "../../core/errors.ts";

export type VmUserMode = "per-build" | "off";

// Far above the ranges that distributions give to people, services and subordinate ids, so no
// file or process of the host belongs to these: a QEMU that a guest took over owns nothing but
// its own per-build files, and can't signal or trace another build's QEMU.
export const VM_UID_BASE = 2_100_000_000;
const VM_UID_COUNT = 1 << 20;

/**
 * The unprivileged uid:gid a builder VM's QEMU runs as (-runas: it opens its disks and sockets as
 * root, then drops to this before the guest runs). Null when microship itself isn't root: QEMU
 * then already has no privilege to drop.
 */
export function vmUser(mode: VmUserMode, isRoot = process.getuid?.() === 0): { uid: number; gid: number } | null {
  if (mode === "off" || !isRoot) return null;
  const id = VM_UID_BASE + randomInt(VM_UID_COUNT);
  return { uid: id, gid: id };
}

let socat: Promise<void> | null = null;

/** QEMU runs socat for every connection the guest opens (qemu-args.ts): without it the guest has no network. */
export function requireSocat(): Promise<void> {
  socat ??= execa("socat", ["-V"], { reject: false, stdin: "ignore" }).then((r) => {
    if (r.exitCode === 0) return;
    socat = null;
    throw infraError("socat is not installed on this host; the builder VM's network needs it.", {
      title: "socat missing",
      hint: "Install it with scripts/host-deps.sh (Debian: apt-get install socat).",
    });
  });
  return socat;
}
