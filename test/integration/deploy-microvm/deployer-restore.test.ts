import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MicroVmDeployer } from "../../../src/deploy/microvm/microvm-deployer.ts";
import { qemuIdentity } from "../../../src/deploy/microvm/stale-qemu.ts";
import { VmStateStore } from "../../../src/deploy/microvm/vm-state-store.ts";
import { RouteTable } from "../../../src/deploy/proxy/route-table.ts";
import { preview, production, savedVm, warnLog } from "../../helpers/saved-vms.ts";

// The microvm deployer's restart, without booting a VM: state files written as a previous
// microship left them (one still had QEMUs running: stand-ins named like QEMU), app disks beside.
// What wakes a restored VM is the sleeper's path, which test/e2e/microvm-deploy.test.ts boots for real.
const root = mkdtempSync(join(tmpdir(), "ms-restore-"));
const stateDir = join(root, "state");
const appDiskDir = join(root, "images");
const bin = join(root, "qemu-system-x86_64");
copyFileSync("/bin/sleep", bin);
const signal = new AbortController().signal;

function staleQemu() {
  const child = spawn(bin, ["300"], { stdio: "ignore" });
  return { child, id: qemuIdentity(child.pid!)!, exited: new Promise<void>((ok) => child.once("exit", () => ok())) };
}

const deployer = (routes: RouteTable, log = warnLog()) => new MicroVmDeployer({ dataDir: join(root, "data"), stateDir, appDiskDir, routes, log, idleCheckMs: 3_600_000 });
const files = () => readdirSync(stateDir).filter((f) => f.endsWith(".json")).sort();
const disks = () => (existsSync(appDiskDir) ? readdirSync(appDiskDir).sort() : []);

test("a restart brings back every deployment asleep, kills the QEMUs the killed process left, drops the VM that was still starting, and collects unused disks", { timeout: 60_000 }, async (t) => {
  const serving = staleQemu();
  const starting = staleQemu();
  // The killed VM's temp dirs, as deploy-vm.ts names them; beside them, what must never be removed.
  const vmDir = mkdtempSync(join(tmpdir(), "msdeploy-"));
  writeFileSync(join(vmDir, "root.qcow2"), "overlay");
  const precious = join(root, "precious");
  mkdirSync(precious);
  const linked = `${mkdtempSync(join(tmpdir(), "msdeploy-net-"))}`;
  rmSync(linked, { recursive: true });
  symlinkSync(precious, linked);
  t.after(() => {
    for (const q of [serving, starting]) q.child.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
    rmSync(vmDir, { recursive: true, force: true });
    rmSync(linked, { force: true });
  });
  const store = new VmStateStore({ dir: stateDir });
  const p7 = savedVm({ target: preview(7), digestByte: "aa", state: "running", qemu: { ...serving.id, dirs: [vmDir, linked] } });
  const p7next = savedVm({ target: preview(7), digestByte: "bb", state: "starting", createdAt: "2026-02-01T00:00:00.000Z", qemu: { ...starting.id, dirs: [precious] } });
  const expired = { ...savedVm({ target: preview(8), digestByte: "dd" }), expiresAt: "2020-01-01T00:00:00.000Z" };
  const prod = savedVm({ target: production, digestByte: "ee", state: "running" });
  for (const s of [p7, p7next, expired, prod]) await store.save(s, { TOKEN: `token-of-${s.instance}` });
  writeFileSync(join(stateDir, "junk.json"), "junk");
  for (const b of ["aa", "bb", "cc", "dd", "ee"]) mkdirSync(join(appDiskDir, b.repeat(32)), { recursive: true });

  const routes = new RouteTable({ domain: "localhost" });
  const log = warnLog();
  const d = deployer(routes, log);
  // The restore's wakes come after the stale QEMUs are dead: a spy in the waker's place sees them.
  const woken: string[] = [];
  routes.waker = (name) => (woken.push(name), { kind: "waking" });
  const listed = await d.list(null, signal);
  assert.deepEqual(listed.map((l) => [l.instance, l.state]).sort(), [[p7.instance, "sleeping"], [expired.instance, "sleeping"], [prod.instance, "sleeping"]].sort(), "list() shows them at once");
  assert.deepEqual(listed.find((l) => l.instance === expired.instance)?.expiresAt, new Date("2020-01-01T00:00:00.000Z"), "an expired preview is restored: the reconciler removes it and tells GitHub");
  assert.deepEqual([p7, expired, prod].map((s) => routes.get(s.name)), [p7, expired, prod].map((s) => ({ name: s.name, instance: s.instance, port: 0, sleeping: true })));

  await d.restored;
  await Promise.all([serving.exited, starting.exited]);
  assert.equal(serving.child.signalCode, "SIGKILL");
  assert.equal(starting.child.signalCode, "SIGKILL");
  assert.equal(existsSync(vmDir), false, "the killed VM's temp dir is removed");
  assert.ok(lstatSync(linked).isSymbolicLink() && existsSync(precious), "a symlink named like one is not followed, a dir elsewhere not touched");
  assert.deepEqual(woken, [prod.name], "the environment is woken at once; previews wait for a request");
  assert.deepEqual(files(), [`${expired.instance}.json`, `${p7.instance}.json`, `${prod.instance}.json`, "junk.json"].sort(), "the VM that was still starting is dropped; the junk is left for the operator");
  assert.deepEqual(disks(), ["aa", "dd", "ee"].map((b) => b.repeat(32)), "disks of no record are gone");
  assert.match(log.warnings.join("\n"), /a deploy state file was ignored/);
  assert.match(log.warnings.join("\n"), /killed a deploy VM's QEMU that a previous microship left running/);

  await d.close();
  assert.equal(files().length, 4, "a graceful stop keeps the state");
  const routes2 = new RouteTable({ domain: "localhost" });
  const d2 = deployer(routes2);
  routes2.waker = () => ({ kind: "waking" });
  await d2.restored;
  assert.deepEqual((await d2.list({ owner: "octo", repo: "shop" }, signal)).map((l) => l.instance).sort(), [p7.instance, expired.instance, prod.instance].sort());
  assert.equal(await d2.teardown({ owner: "octo", repo: "shop", target: preview(7) }, signal), 1);
  assert.equal(routes2.get(p7.name), null);
  assert.deepEqual(files(), [`${expired.instance}.json`, `${prod.instance}.json`, "junk.json"].sort(), "a teardown removes the state file");
  assert.deepEqual(disks(), ["dd", "ee"].map((b) => b.repeat(32)), "and the disk no record uses");
  await d2.teardown({ owner: "octo", repo: "shop", target: preview(8) }, signal);
  await d2.teardown({ owner: "octo", repo: "shop", target: production }, signal);
  assert.deepEqual([files(), disks(), await d2.list(null, signal)], [["junk.json"], [], []]);
  await d2.close();
});
