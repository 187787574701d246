import { existsSync } from "node:fs";

export type AcceleratorKind = "kvm" | "tcg";

export interface Accelerator {
  kind: AcceleratorKind;
  /** One sentence for the operator log and the check summary. */
  reason: string;
}

/**
 * KVM only when the host really has hardware virtualisation. `/dev/kvm` alone is no proof: a
 * paravirtual KVM (kvm_pvm, as on nested cloud VMs) exposes it but cannot boot a stock kernel,
 * so the vendor module (kvm_intel / kvm_amd) must be loaded too. docs/design.md section 5.
 * `MICROSHIP_MICROVM_ACCEL=kvm|tcg` overrides the detection.
 */
export function detectAccelerator(o: { override?: string; exists?: (path: string) => boolean } = {}): Accelerator {
  const exists = o.exists ?? existsSync;
  if (o.override === "tcg") return { kind: "tcg", reason: "TCG (software emulation), chosen by MICROSHIP_MICROVM_ACCEL" };
  if (o.override === "kvm") return { kind: "kvm", reason: "KVM, chosen by MICROSHIP_MICROVM_ACCEL" };
  const vendor = ["kvm_intel", "kvm_amd"].find((m) => exists(`/sys/module/${m}`));
  const dev = exists("/dev/kvm");
  if (vendor && dev) return { kind: "kvm", reason: `KVM (hardware virtualisation: ${vendor} is loaded)` };
  if (dev && exists("/sys/module/kvm_pvm")) {
    return { kind: "tcg", reason: "TCG (software emulation): /dev/kvm is the paravirtual kvm_pvm, which cannot boot a stock kernel" };
  }
  if (dev) return { kind: "tcg", reason: "TCG (software emulation): /dev/kvm exists but neither kvm_intel nor kvm_amd is loaded" };
  return { kind: "tcg", reason: "TCG (software emulation): this host has no /dev/kvm" };
}

/** QEMU's flags for the accelerator. */
export function acceleratorArgs(kind: AcceleratorKind): string[] {
  return kind === "kvm" ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg,thread=multi", "-cpu", "max"];
}
