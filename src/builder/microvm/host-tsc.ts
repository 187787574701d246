import { readFileSync } from "node:fs";

/**
 * The host's TSC rate in kHz, or null when /proc/cpuinfo doesn't say. Under TCG the guest's TSC
 * is the host's, and the guest kernel's own measurement of it races against the emulated PIT:
 * on a busy host it sometimes fails ("tsc: Marking TSC unstable due to could not calculate TSC
 * khz") and the boot then hangs for good. Telling the kernel the rate skips that measurement.
 */
export function hostTscKhz(cpuinfo: () => string = () => readFileSync("/proc/cpuinfo", "utf8")): number | null {
  let text: string;
  try {
    text = cpuinfo();
  } catch {
    return null;
  }
  const mhz = Number(/^cpu MHz\s*:\s*([0-9.]+)/m.exec(text)?.[1]);
  return Number.isFinite(mhz) && mhz > 0 ? Math.round(mhz * 1000) : null;
}
