import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEnv } from "../../../src/config/env.ts";
import { createDefaultParts } from "../../../src/default-parts.ts";
import { MicroVmDeployer } from "../../../src/deploy/microvm/microvm-deployer.ts";
import { createLogger } from "../../../src/log/logger.ts";
import { StateDirInUseError } from "../../../src/deploy/microvm/state-dir-lock.ts";
import { VmStateStore } from "../../../src/deploy/microvm/vm-state-store.ts";
import { RouteTable } from "../../../src/deploy/proxy/route-table.ts";
import { savedVm } from "../../helpers/saved-vms.ts";

// The microvm deployer owns its state dir for its life (state-dir-lock.ts has the lock's own
// attacks, with other processes), and at start removes what killed image-to-disk conversions left.
const hex = (b: string) => b.repeat(32);
const freeToFlock = (path: string) => spawnSync("flock", ["--exclusive", "--nonblock", "--conflict-exit-code", "75", path, "true"]).status === 0;
const signal = new AbortController().signal;

function world() {
  const root = mkdtempSync(join(tmpdir(), "ms-state-owner-"));
  const stateDir = join(root, "state");
  const appDiskDir = join(root, "images");
  const deployer = () => new MicroVmDeployer({ dataDir: join(root, "data"), stateDir, appDiskDir, routes: new RouteTable({ domain: "localhost" }), idleCheckMs: 3_600_000 });
  return { root, stateDir, appDiskDir, deployer, done: () => rmSync(root, { recursive: true, force: true }) };
}

test("a second deployer on the same state dir is refused at construction, naming the dir and pid; close() frees the dir", async () => {
  const w = world();
  try {
    const first = w.deployer();
    await first.restored;
    assert.throws(() => w.deployer(), (err) => err instanceof StateDirInUseError && err.message.includes(w.stateDir) && err.message.includes(`pid ${process.pid}`));
    await first.close();
    assert.equal(readFileSync(join(w.stateDir, "owner.lock"), "utf8"), "", "close() empties the record (the file itself is never removed)");
    assert.equal(freeToFlock(join(w.stateDir, "owner.lock")), true, "close() lets the lock go");
    const second = w.deployer();
    await second.restored;
    await second.close();
  } finally {
    w.done();
  }
});

test("at start, a killed conversion's work dirs and lock dirs are removed; symlinks named like them are unlinked, never followed; nothing else goes", async () => {
  const w = world();
  const precious = join(w.root, "precious");
  mkdirSync(precious);
  writeFileSync(join(precious, "keep"), "x");
  const used = savedVm({ digestByte: "aa" });
  await new VmStateStore({ dir: w.stateDir }).save(used, {});
  // As app-disk.ts leaves them: `{hex}.tmp-{pid}-{8 hex}` (with the registry's auth file in it) and `{hex}.lock` with its pid.
  const work = join(w.appDiskDir, `${hex("bb")}.tmp-4242-0a1b2c3d`);
  mkdirSync(join(work, "bundle", "rootfs", "etc"), { recursive: true });
  writeFileSync(join(work, "auth.json"), '{"auths":{}}');
  writeFileSync(join(work, "root.ext4"), "half a disk");
  const lockDir = join(w.appDiskDir, `${hex("bb")}.lock`);
  mkdirSync(lockDir);
  writeFileSync(join(lockDir, "pid"), "4242");
  mkdirSync(join(w.appDiskDir, `${hex("cc")}.lock`), { recursive: true }); // killed before it wrote its pid: it blocked that digest for good
  symlinkSync(precious, join(w.appDiskDir, `${hex("dd")}.tmp-1-deadbeef`));
  symlinkSync(precious, join(w.appDiskDir, `${hex("dd")}.lock`));
  // What stays: the disk a record uses, names that only look alike, the operator's files.
  mkdirSync(join(w.appDiskDir, hex("aa")));
  writeFileSync(join(w.appDiskDir, hex("aa"), "ready"), "");
  const stay = [hex("aa"), `${hex("ee")}.tmp-1-abcd`, "x.lock", `${hex("ee")}.locked`, "notes"];
  for (const n of stay.slice(1)) writeFileSync(join(w.appDiskDir, n), "keep");

  const d = w.deployer();
  try {
    assert.equal(existsSync(work), false, "set aside at construction, before a deploy could make such a name");
    await d.restored;
    assert.deepEqual(readdirSync(w.appDiskDir).sort(), stay.sort());
    assert.deepEqual(readdirSync(precious), ["keep"], "a symlink's target is untouched");
    assert.equal(readFileSync(join(precious, "keep"), "utf8"), "x");
    assert.deepEqual((await d.list(null, signal)).map((l) => l.instance), [used.instance]);
  } finally {
    await d.close();
    w.done();
  }
});

const MAIN = new URL("../../../src/main.ts", import.meta.url).pathname;

/** `node src/main.ts` as an operator runs it, with the microvm deployer and nothing slow to start (host builder, an outside registry). */
function microship(dataDir: string, keyPath: string) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "", APP_ID: "1", PRIVATE_KEY_PATH: keyPath, WEBHOOK_SECRET: "s", MICROSHIP_DATA_DIR: dataDir, PORT: "0",
    MICROSHIP_REGISTRY: "127.0.0.1:1", MICROSHIP_BUILDER: "host", MICROSHIP_DEPLOYER: "microvm", LOG_LEVEL: "info",
  };
  const child = spawn(process.execPath, [MAIN], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const seen = (re: RegExp) => new Promise<void>((ok) => {
    const look = () => re.test(out) && ok();
    child.stdout!.on("data", (c) => ((out += c), look()));
    child.stderr!.on("data", (c) => ((out += c), look()));
  });
  const exited = new Promise<number | null>((ok) => child.once("exit", (code) => ok(code)));
  return { child, listening: seen(/microship listening on port/), exited, out: () => out };
}

test("microship started twice on one data dir: the second refuses to start naming the dir and the first's pid; after a kill -9 the first starts again; a symlinked lock file is refused plainly", { timeout: 60_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), "ms-two-starts-"));
  const keyPath = join(root, "app.pem");
  writeFileSync(keyPath, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
  const dataDir = join(root, "data");
  const first = microship(dataDir, keyPath);
  let again: ReturnType<typeof microship> | null = null;
  try {
    await first.listening;
    const second = microship(dataDir, keyPath);
    assert.equal(await second.exited, 2, second.out());
    const stateDir = join(dataDir, "builders", "microvm", "deploy", "state");
    assert.ok(second.out().includes(`The microvm deploy state dir ${stateDir} is in use by another microship process, pid ${first.child.pid}.`), second.out());
    assert.doesNotMatch(second.out(), /\n\s+at /, "an operator's message, not a stack");
    first.child.kill("SIGKILL");
    await first.exited;
    again = microship(dataDir, keyPath);
    await again.listening;
    again.child.kill("SIGTERM");
    assert.equal(await again.exited, 0, again.out());
    assert.equal(readFileSync(join(stateDir, "owner.lock"), "utf8"), "", "a stop gives the dir up");
    // A lock file that is not one (here a symlink) is the operator's to remove: a plain refusal too.
    rmSync(join(stateDir, "owner.lock"));
    symlinkSync(keyPath, join(stateDir, "owner.lock"));
    const refused = microship(dataDir, keyPath);
    assert.equal(await refused.exited, 2, refused.out());
    assert.ok(refused.out().includes(`The microvm deploy state dir's lock file ${join(stateDir, "owner.lock")} is a symlink`), refused.out());
    assert.doesNotMatch(refused.out(), /\n\s+at /);
  } finally {
    for (const p of [first, again]) if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
  }
});

/** This process's children named `comm` (setpriv execs the registry under its own name). */
function myChildren(comm: string): number[] {
  return readdirSync("/proc").filter((n) => /^\d+$/.test(n)).filter((n) => {
    try {
      const stat = readFileSync(`/proc/${n}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) === comm && rest[1] === String(process.pid) && rest[0] !== "Z";
    } catch {
      return false;
    }
  }).map(Number);
}

test("parts refused for the deploy state stop what they had started (the embedded registry)", { timeout: 60_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), "ms-parts-refused-"));
  const env = loadEnv({ MICROSHIP_DATA_DIR: root, MICROSHIP_BUILDER: "host", MICROSHIP_DEPLOYER: "microvm" });
  const log = createLogger("silent");
  const before = myChildren("docker-registry");
  const first = await createDefaultParts(env, log, {});
  try {
    const running = myChildren("docker-registry").filter((p) => !before.includes(p));
    assert.equal(running.length, 1, "the first parts' registry runs");
    await assert.rejects(createDefaultParts(env, log, {}), StateDirInUseError);
    assert.deepEqual(myChildren("docker-registry").filter((p) => !before.includes(p)), running, "the refused parts' registry is stopped");
  } finally {
    await first.close();
    rmSync(root, { recursive: true, force: true });
  }
});
