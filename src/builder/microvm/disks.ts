import { execa } from "execa";
import { open } from "node:fs/promises";
import { infraError } from "../../core/errors.ts";

/**
 * The per-build disks. All are ext4 made on the host (`mkfs.ext4 -d` copies a directory with its
 * owners and modes, no mount needed) except the root, a qcow2 overlay: the shared builder.ext4
 * is its read-only backing file and is never written.
 */

const MiB = 1024 * 1024;

async function run(cmd: string, args: string[]): Promise<void> {
  const r = await execa(cmd, args, { reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) throw infraError(`${cmd} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).slice(-500)}`, { title: "Builder VM disk setup failed" });
}

/** Disk usage of a directory in MiB, rounded up. */
async function usageMiB(dir: string): Promise<number> {
  const r = await execa("du", ["-s", "-B1M", dir], { reject: false });
  return Number(r.stdout.split(/\s/)[0]) || 0;
}

/** An ext4 image holding `dir`: its contents plus a quarter and `extraMiB` of room. */
export async function ext4FromDir(dir: string, out: string, o: { label: string; extraMiB?: number }): Promise<number> {
  const used = await usageMiB(dir);
  const size = Math.max(16, Math.ceil(used * 1.25) + (o.extraMiB ?? 16));
  await sparse(out, size);
  await run("mkfs.ext4", ["-q", "-F", "-O", "^has_journal", "-L", o.label, "-d", dir, out]);
  return size;
}

/** An empty ext4 scratch disk, sparse: it costs only what the build writes. */
export async function scratchDisk(out: string, sizeMiB: number): Promise<void> {
  await sparse(out, sizeMiB);
  await run("mkfs.ext4", ["-q", "-F", "-O", "^has_journal", "-E", "lazy_itable_init=1,nodiscard", "-L", "scratch", out]);
}

/** A copy-on-write overlay of the shared root disk. */
export async function rootOverlay(base: string, out: string): Promise<void> {
  await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, out]);
}

async function sparse(path: string, sizeMiB: number): Promise<void> {
  const f = await open(path, "w", 0o600);
  try {
    await f.truncate(sizeMiB * MiB);
  } finally {
    await f.close();
  }
}
