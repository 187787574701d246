import { test } from "node:test";
import assert from "node:assert/strict";
import { hostTscKhz } from "../../../src/builder/microvm/host-tsc.ts";
import { qemuArgs, type QemuArgsOptions } from "../../../src/builder/microvm/qemu-args.ts";

const CPUINFO = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2095.997\ncache size\t: 512 KB\n\nprocessor\t: 1\ncpu MHz\t\t: 2095.997\n";

test("the host's TSC rate comes from the first cpu MHz line, in kHz", () => {
  assert.equal(hostTscKhz(() => CPUINFO), 2_095_997);
});

test("no cpu MHz line, or no /proc/cpuinfo, is no rate rather than a wrong one", () => {
  assert.equal(hostTscKhz(() => "processor\t: 0\nmodel name\t: something\n"), null);
  assert.equal(hostTscKhz(() => { throw new Error("ENOENT"); }), null);
});

const base: QemuArgsOptions = {
  accel: "tcg", cpus: 2, memoryMiB: 2048, kernel: "/k", initramfs: "/i",
  disks: { root: "/r", source: "/s", config: "/c", scratch: "/x" }, resultSocket: "/res", logSocket: "/log",
  egressSocket: "/net/egress.sock", hostForwards: [], runAs: null,
};
const cmdline = (o: QemuArgsOptions) => { const a = qemuArgs(o); return a[a.indexOf("-append") + 1]!; };

test("a TCG guest is told the TSC rate, so its kernel never hangs measuring it against the PIT", () => {
  assert.match(cmdline({ ...base, tscKhz: 2_095_997 }), / tsc_early_khz=2095997$/);
});

test("a KVM guest, or a host whose rate is unknown, measures it itself", () => {
  assert.doesNotMatch(cmdline({ ...base, accel: "kvm", tscKhz: 2_095_997 }), /tsc_early_khz/);
  assert.doesNotMatch(cmdline({ ...base, tscKhz: null }), /tsc_early_khz/);
});
