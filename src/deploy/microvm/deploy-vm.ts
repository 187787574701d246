import { chown, mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AcceleratorKind } from "../../builder/microvm/accelerator.ts";
import { ext4FromDir, rootOverlay } from "../../builder/microvm/disks.ts";
import type { EgressPolicy } from "../../builder/microvm/egress-policy.ts";
import { startEgressProxy } from "../../builder/microvm/egress-proxy.ts";
import { runVm, type VmOutcome } from "../../builder/microvm/run-vm.ts";
import type { VmImage } from "../../builder/microvm/vm-image.ts";
import { deployQemuArgs } from "./deploy-qemu-args.ts";

export interface DeployVmOptions {
  image: VmImage;
  accel: AcceleratorKind;
  cpus: number;
  memoryMiB: number;
  tscKhz: number | null;
  /** The app's root disk (app-disk.ts) and its run script (run-script.ts). */
  rootDisk: string;
  runScript: string;
  guestPort: number;
  policy: EgressPolicy;
  user: { uid: number; gid: number } | null;
  bootTimeoutMs: number;
  onStart?(pid: number): void;
  /** More files for the config disk beside run.sh (a release VM's nonce). */
  configFiles?: Record<string, string>;
  /** When QEMU is killed (a release VM's time limit); default: never, until stop(). */
  deadlineMs?: number;
  /** Each console line as it comes (the tail is kept either way). */
  onLine?(text: string): void;
}

export interface DeployVm {
  /** The app's port on the host's loopback. */
  hostPort: number;
  /** QEMU's pid once it runs; null if it never started (a stale one is found by it after a crash). */
  pid: Promise<number | null>;
  /** Its temporary dirs (overlay, config disk, sockets): a killed microship leaves them behind. */
  dirs: readonly string[];
  /** Resolves when QEMU has exited and the VM's files are gone. */
  exited: Promise<VmOutcome>;
  /** The console's last lines (the app's own output), for a failed start's message. */
  tail(): string;
  /** Kills QEMU (the overlay is thrown away: nothing needs a clean shutdown) and waits for the cleanup. */
  stop(): Promise<void>;
}

const TAIL_LINES = 40;

/** Starts one deploy VM and returns at once; it runs until stop(), or until the app or the guest ends. */
export async function startDeployVm(o: DeployVmOptions): Promise<DeployVm> {
  const work = await mkdtemp(join(tmpdir(), "msdeploy-"));
  const netDir = await mkdtemp(join(tmpdir(), "msdeploy-net-"));
  let proxy: { close(): Promise<void> } | null = null;
  const cleanup = async () => {
    await proxy?.close().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
    await rm(netDir, { recursive: true, force: true });
  };
  try {
    const rootDisk = join(work, "root.qcow2");
    await rootOverlay(o.rootDisk, rootDisk);
    const configDisk = await configDiskOf(work, { "run.sh": o.runScript, ...o.configFiles });
    const egressSocket = join(netDir, "egress.sock");
    proxy = await startEgressProxy({ listen: egressSocket, policy: o.policy });
    // QEMU runs socat per guest connection after dropping to o.user: the socket must be its.
    if (o.user) for (const p of [netDir, egressSocket]) await chown(p, o.user.uid, o.user.gid);
    const hostPort = await freeLoopbackPort();
    const resultSocket = join(work, "result.sock");
    const logSocket = join(work, "log.sock");
    const args = deployQemuArgs({ ...o, kernel: o.image.kernel, initramfs: o.image.initramfs, rootDisk, configDisk, resultSocket, logSocket, egressSocket, hostPort, runAs: o.user });
    const lines: string[] = [];
    const ac = new AbortController();
    let started: (pid: number | null) => void = () => undefined;
    const pid = new Promise<number | null>((ok) => (started = ok));
    const exited = runVm({
      args, resultSocket, logSocket, signal: ac.signal,
      onLine: (l) => {
        lines.push(l.text);
        if (lines.length > TAIL_LINES) lines.shift();
        o.onLine?.(l.text);
      },
      // A deploy VM runs until stopped; runVm caps this at what a timer can hold.
      deadlineMs: o.deadlineMs ?? Number.MAX_SAFE_INTEGER,
      bootDeadlineMs: o.bootTimeoutMs,
      onStart: (p) => {
        started(p);
        o.onStart?.(p);
      },
    }).finally(() => (started(null), cleanup()));
    exited.catch(() => undefined);
    return {
      hostPort,
      pid,
      dirs: [work, netDir],
      exited,
      tail: () => lines.join("\n"),
      async stop() {
        ac.abort(new Error("deploy VM stopped"));
        await exited.catch(() => undefined);
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The guest's config disk (its run script and any other files), made in `work`. */
async function configDiskOf(work: string, files: Record<string, string>): Promise<string> {
  const configDir = join(work, "config");
  await mkdir(configDir, { mode: 0o700 });
  for (const [name, text] of Object.entries(files)) await writeFile(join(configDir, name), text, { mode: 0o600 });
  const configDisk = join(work, "config.ext4");
  await ext4FromDir(configDir, configDisk, { label: "config", extraMiB: 1 });
  await rm(configDir, { recursive: true, force: true });
  return configDisk;
}

/** A free port on 127.0.0.1, for QEMU's hostfwd (QEMU itself can't report one it picked). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}
