import { acceleratorArgs, type AcceleratorKind } from "../../builder/microvm/accelerator.ts";
import { diskArgs, guestChannelArgs, kernelCommandLine, networkArgs } from "../../builder/microvm/qemu-args.ts";

export interface DeployQemuArgsOptions {
  accel: AcceleratorKind;
  cpus: number;
  memoryMiB: number;
  kernel: string;
  initramfs: string;
  /** qcow2 overlay over the app's root disk. */
  rootDisk: string;
  /** ext4 holding run.sh. */
  configDisk: string;
  resultSocket: string;
  logSocket: string;
  tscKhz?: number | null;
  egressSocket: string;
  /** The app's port in the guest, forwarded from 127.0.0.1:hostPort. */
  guestPort: number;
  hostPort: number;
  runAs: { uid: number; gid: number } | null;
}

/**
 * A deploy VM: the builder VM's machine, kernel, initramfs, network and sandbox (qemu-args.ts), with
 * the app's root and a config disk instead of the build's disks, and one hostfwd from the host's
 * loopback to the app's port. The guest still reaches nothing but the egress proxy: restrict=on
 * holds for what it opens, and a hostfwd only carries connections the host opens.
 */
export function deployQemuArgs(o: DeployQemuArgsOptions): string[] {
  for (const p of [o.guestPort, o.hostPort]) if (!(Number.isInteger(p) && p > 0 && p < 65536)) throw new Error(`invalid port ${p}`);
  const net = networkArgs({ egressSocket: o.egressSocket, hostForwards: [] });
  net[1] = `${net[1]},hostfwd=tcp:127.0.0.1:${o.hostPort}-:${o.guestPort}`;
  return [
    ...acceleratorArgs(o.accel),
    "-M", "microvm", "-m", String(o.memoryMiB), "-smp", String(o.cpus),
    "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
    "-serial", "stdio",
    "-kernel", o.kernel, "-initrd", o.initramfs,
    "-append", kernelCommandLine(o),
    ...diskArgs("root", o.rootDisk, "qcow2"),
    ...diskArgs("config", o.configDisk, "raw", true),
    ...net,
    ...guestChannelArgs(o),
  ];
}
