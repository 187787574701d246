import { acceleratorArgs, type AcceleratorKind } from "./accelerator.ts";

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
}

/**
 * The QEMU command line of one builder VM: the `microvm` machine, virtio-mmio devices only, the
 * serial console on stdout for the boot's own messages, a virtio serial port for the build log
 * (flow-controlled: the UART drops bytes when the host reads slowly), and one for the result line.
 * Disks carry a virtio serial number, which the guest's init finds them by.
 */
export function qemuArgs(o: QemuArgsOptions): string[] {
  const disk = (id: string, file: string, format: "raw" | "qcow2", readonly = false) => [
    "-drive", `id=${id},file=${file},format=${format},if=none,cache=unsafe,discard=unmap${readonly ? ",readonly=on" : ""}`,
    "-device", `virtio-blk-device,drive=${id},serial=${id}`,
  ];
  return [
    ...acceleratorArgs(o.accel),
    "-M", "microvm",
    "-m", String(o.memoryMiB),
    "-smp", String(o.cpus),
    "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
    "-serial", "stdio",
    "-kernel", o.kernel,
    "-initrd", o.initramfs,
    // panic=-1 reboots on a kernel panic, and -no-reboot turns that into QEMU exiting.
    "-append", ["console=ttyS0 quiet loglevel=3 panic=-1", ...(o.accel === "tcg" && o.tscKhz ? [`tsc_early_khz=${o.tscKhz}`] : [])].join(" "),
    ...disk("root", o.disks.root, "qcow2"),
    ...disk("src", o.disks.source, "raw"),
    ...disk("config", o.disks.config, "raw", true),
    ...disk("scratch", o.disks.scratch, "raw"),
    "-netdev", "user,id=net0",
    "-device", "virtio-net-device,netdev=net0",
    "-device", "virtio-rng-device",
    "-device", "virtio-serial-device",
    "-chardev", `socket,id=log,path=${o.logSocket}`,
    "-device", "virtserialport,chardev=log,name=microship.log",
    "-chardev", `socket,id=result,path=${o.resultSocket}`,
    "-device", "virtserialport,chardev=result,name=microship.result",
  ];
}
