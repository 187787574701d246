import { acceleratorArgs, type AcceleratorKind } from "./accelerator.ts";
import { GUEST_PROXY_ADDRESS, GUEST_PROXY_PORT, GUEST_REGISTRY_ADDRESS } from "./guest-network.ts";

export interface VmDisks {
  /** qcow2 overlay over the shared builder.ext4. */
  root: string;
  source: string;
  config: string;
  scratch: string;
}

export interface QemuArgsOptions {
  accel: AcceleratorKind;
  cpus: number;
  memoryMiB: number;
  kernel: string;
  initramfs: string;
  disks: VmDisks;
  /** Unix socket the host listens on; the guest's `microship.result` port connects to it. */
  resultSocket: string;
  /** Where QEMU connects the guest's log port. */
  logSocket: string;
  /** The host's TSC rate, given to a TCG guest so that its kernel needn't measure it (host-tsc.ts). */
  tscKhz?: number | null;
  /** The egress proxy's unix socket (egress-proxy.ts): the guest's GUEST_PROXY_ADDRESS leads there. */
  egressSocket: string;
  /** Host loopback registries, each reached from the guest at GUEST_REGISTRY_ADDRESS:guestPort. */
  hostForwards: HostForward[];
  /** QEMU drops to this uid:gid once it has opened its disks and sockets (-runas); null keeps root. */
  runAs: { uid: number; gid: number } | null;
}

export interface HostForward {
  guestPort: number;
  /** 127.0.0.1 or ::1: only the host's own loopback registries are ever forwarded. */
  host: "127.0.0.1" | "::1";
  port: number;
}

// QEMU splits options on commas and glib splits the command on blanks and quotes: a path with any
// of them can't be passed safely, and ours never have them.
const SAFE_PATH = /^\/[A-Za-z0-9_./-]{1,200}$/;

/**
 * restrict=on: the guest reaches no address, not the host (10.0.2.2), not its DNS (10.0.2.3), not
 * the internet, except through the guestfwd rules. A guestfwd to a chardev carries one connection
 * for the VM's whole life (a second one at the same time gets nothing, tried on QEMU 7.2), so each
 * rule is `cmd:`, which QEMU runs once per connection with the connection on stdin and stdout:
 * socat joins it to the egress proxy's socket or to one loopback registry.
 */
export function networkArgs(o: Pick<QemuArgsOptions, "egressSocket" | "hostForwards">): string[] {
  if (!SAFE_PATH.test(o.egressSocket)) throw new Error(`unsafe egress socket path: ${o.egressSocket}`);
  const rules = [`guestfwd=tcp:${GUEST_PROXY_ADDRESS}:${GUEST_PROXY_PORT}-cmd:socat STDIO UNIX-CONNECT:${o.egressSocket}`];
  for (const f of o.hostForwards) {
    if (!(Number.isInteger(f.port) && f.port > 0 && f.port < 65536 && Number.isInteger(f.guestPort) && f.guestPort > 0 && f.guestPort < 65536)) throw new Error(`invalid forward ${f.guestPort} -> ${f.port}`);
    const target = f.host === "::1" ? `TCP6:[::1]:${f.port}` : `TCP4:127.0.0.1:${f.port}`;
    rules.push(`guestfwd=tcp:${GUEST_REGISTRY_ADDRESS}:${f.guestPort}-cmd:socat STDIO ${target}`);
  }
  return ["-netdev", ["user,id=net0,restrict=on,ipv6=off", ...rules].join(","), "-device", "virtio-net-device,netdev=net0"];
}

/**
 * QEMU's seccomp filter. obsolete and resourcecontrol are denied. spawn and elevateprivileges stay
 * allowed because every guestfwd connection is a spawned socat whose setup calls setsid, which
 * elevateprivileges=deny kills (tried: the connection then gets nothing). What elevateprivileges
 * would guard is covered by -runas: QEMU holds no root once the guest runs, so no set*id call can
 * raise it.
 */
export const SANDBOX = ["-sandbox", "on,obsolete=deny,resourcecontrol=deny"];

/**
 * The QEMU command line of one builder VM: the `microvm` machine, virtio-mmio devices only, the
 * serial console on stdout for the boot's own messages, a virtio serial port for the build log
 * (flow-controlled: the UART drops bytes when the host reads slowly), and one for the result line.
 * Disks carry a virtio serial number, which the guest's init finds them by.
 */
export function qemuArgs(o: QemuArgsOptions): string[] {
  return [
    ...acceleratorArgs(o.accel),
    "-M", "microvm",
    "-m", String(o.memoryMiB),
    "-smp", String(o.cpus),
    "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
    "-serial", "stdio",
    "-kernel", o.kernel,
    "-initrd", o.initramfs,
    "-append", kernelCommandLine(o),
    ...diskArgs("root", o.disks.root, "qcow2"),
    ...diskArgs("src", o.disks.source, "raw"),
    ...diskArgs("config", o.disks.config, "raw", true),
    ...diskArgs("scratch", o.disks.scratch, "raw"),
    ...networkArgs(o),
    ...guestChannelArgs(o),
  ];
}

/** A disk the guest's init finds by its virtio serial number (`id`). */
export function diskArgs(id: string, file: string, format: "raw" | "qcow2", readonly = false): string[] {
  return [
    "-drive", `id=${id},file=${file},format=${format},if=none,cache=unsafe,discard=unmap${readonly ? ",readonly=on" : ""}`,
    "-device", `virtio-blk-device,drive=${id},serial=${id}`,
  ];
}

/** panic=-1 reboots on a kernel panic, and -no-reboot turns that into QEMU exiting. */
export function kernelCommandLine(o: Pick<QemuArgsOptions, "accel" | "tscKhz">): string {
  return ["console=ttyS0 quiet loglevel=3 panic=-1", ...(o.accel === "tcg" && o.tscKhz ? [`tsc_early_khz=${o.tscKhz}`] : [])].join(" ");
}

/** The guest's log and result ports, its entropy, the seccomp sandbox and the uid QEMU drops to: every microship VM has them. */
export function guestChannelArgs(o: { logSocket: string; resultSocket: string; runAs: { uid: number; gid: number } | null }): string[] {
  return [
    "-device", "virtio-rng-device",
    "-device", "virtio-serial-device",
    "-chardev", `socket,id=log,path=${o.logSocket}`,
    "-device", "virtserialport,chardev=log,name=microship.log",
    "-chardev", `socket,id=result,path=${o.resultSocket}`,
    "-device", "virtserialport,chardev=result,name=microship.result",
    ...SANDBOX,
    ...(o.runAs ? ["-runas", `${o.runAs.uid}:${o.runAs.gid}`] : []),
  ];
}
