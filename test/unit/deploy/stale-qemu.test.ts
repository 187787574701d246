import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killStaleQemu, qemuIdentity } from "../../../src/deploy/microvm/stale-qemu.ts";

// A real process named like QEMU (a copy of sleep): what a killed microship leaves running.
function fakeQemu(name = "qemu-system-x86_64") {
  const dir = mkdtempSync(join(tmpdir(), "ms-stale-"));
  copyFileSync("/bin/sleep", join(dir, name));
  const child = spawn(join(dir, name), ["300"], { stdio: "ignore" });
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  return { child, exited, done: () => { child.kill("SIGKILL"); rmSync(dir, { recursive: true, force: true }); } };
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test("a QEMU left running is killed when its pid and start time both still match", async () => {
  const q = fakeQemu();
  const id = qemuIdentity(q.child.pid!);
  assert.ok(id && /^\d+$/.test(id.startTime));
  assert.equal(await killStaleQemu(id), true);
  await q.exited;
  assert.equal(q.child.signalCode, "SIGKILL");
  q.done();
});

test("a reused pid (another start time), a process that isn't QEMU, and a gone pid are left alone", async () => {
  const q = fakeQemu();
  const id = qemuIdentity(q.child.pid!)!;
  assert.equal(await killStaleQemu({ ...id, startTime: String(Number(id.startTime) + 1) }), false);
  assert.ok(alive(q.child.pid!));
  const other = fakeQemu("node-app");
  assert.equal(await killStaleQemu(qemuIdentity(other.child.pid!)!), false);
  assert.ok(alive(other.child.pid!));
  assert.equal(await killStaleQemu({ pid: 4_000_000, startTime: "1" }), false);
  q.done();
  other.done();
});
