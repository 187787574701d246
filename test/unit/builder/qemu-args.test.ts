import { test } from "node:test";
import assert from "node:assert/strict";
import { qemuArgs, type QemuArgsOptions } from "../../../src/builder/microvm/qemu-args.ts";
import { hostForwards } from "../../../src/builder/microvm/host-forwards.ts";
import { vmUser, VM_UID_BASE } from "../../../src/builder/microvm/vm-user.ts";

const base: QemuArgsOptions = {
  accel: "tcg", cpus: 2, memoryMiB: 2048, kernel: "/k", initramfs: "/i",
  disks: { root: "/r", source: "/s", config: "/c", scratch: "/x" }, resultSocket: "/res", logSocket: "/log",
  egressSocket: "/tmp/msvm-net-abc/egress.sock", hostForwards: [{ guestPort: 5000, host: "127.0.0.1", port: 5000 }, { guestPort: 41234, host: "::1", port: 41234 }], runAs: { uid: VM_UID_BASE + 7, gid: VM_UID_BASE + 7 },
};
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1]!;

test("the guest's network is restricted to the proxy and the named loopback registries, each a socat per connection", () => {
  const net = after(qemuArgs(base), "-netdev");
  assert.equal(net, [
    "user,id=net0,restrict=on,ipv6=off",
    "guestfwd=tcp:10.0.2.101:3128-cmd:socat STDIO UNIX-CONNECT:/tmp/msvm-net-abc/egress.sock",
    "guestfwd=tcp:10.0.2.100:5000-cmd:socat STDIO TCP4:127.0.0.1:5000",
    "guestfwd=tcp:10.0.2.100:41234-cmd:socat STDIO TCP6:[::1]:41234",
  ].join(","));
  assert.equal(qemuArgs(base).filter((a) => a === "-netdev").length, 1, "one network, no other way out");
});

test("QEMU is sandboxed and drops to the given uid:gid", () => {
  const args = qemuArgs(base);
  assert.equal(after(args, "-sandbox"), "on,obsolete=deny,resourcecontrol=deny");
  assert.equal(after(args, "-runas"), `${VM_UID_BASE + 7}:${VM_UID_BASE + 7}`);
  assert.ok(!qemuArgs({ ...base, runAs: null }).includes("-runas"));
});

test("a socket path or forward that could break QEMU's option syntax is refused", () => {
  for (const egressSocket of ["/tmp/a,guestfwd=tcp:10.0.2.5:1-cmd:sh/x.sock", "/tmp/a b/x.sock", "relative.sock", "/tmp/'x'.sock"]) {
    assert.throws(() => qemuArgs({ ...base, egressSocket }), /unsafe egress socket path/, egressSocket);
  }
  assert.throws(() => qemuArgs({ ...base, hostForwards: [{ guestPort: 5000, host: "127.0.0.1", port: 70000 }] }), /invalid forward/);
});

test("registry rewrites become forwards to the host's own loopback only", () => {
  assert.deepEqual(hostForwards([
    { from: "127.0.0.1:5000", to: "10.0.2.100:5000" },
    { from: "localhost:5001", to: "10.0.2.100:5001" },
    { from: "[::1]:5002", to: "10.0.2.100:5002" },
    { from: "localhost", to: "10.0.2.100" },
  ]), [
    { guestPort: 5000, host: "127.0.0.1", port: 5000 },
    { guestPort: 5001, host: "127.0.0.1", port: 5001 },
    { guestPort: 5002, host: "::1", port: 5002 },
  ]);
});

test("each VM gets an unprivileged uid of its own when microship is root, none otherwise or when turned off", () => {
  const a = vmUser("per-build", true)!;
  const ids = new Set(Array.from({ length: 50 }, () => vmUser("per-build", true)!.uid));
  assert.ok(a.uid >= VM_UID_BASE && a.uid === a.gid);
  assert.ok(ids.size > 45, "uids repeat");
  assert.equal(vmUser("per-build", false), null);
  assert.equal(vmUser("off", true), null);
});
