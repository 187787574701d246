import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bootId, procStat } from "../../../src/deploy/microvm/proc-stat.ts";
import { lockStateDir, StateDirInUseError } from "../../../src/deploy/microvm/state-dir-lock.ts";
import { warnLog } from "../../helpers/saved-vms.ts";

const LOCK_MODULE = resolve("src/deploy/microvm/state-dir-lock.ts");
const newDir = () => mkdtempSync(join(tmpdir(), "ms-state-lock-"));
const lockFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith("owner.lock.")).sort();
const holder = (pid: number, startTime: string, boot = bootId()) => JSON.stringify({ v: 1, pid, startTime, bootId: boot });

/** Another microship process: it takes the dir's lock, says what happened, and holds on until killed. */
function otherProcess(dir: string): { child: ChildProcess; said: Promise<string> } {
  const code = `import { lockStateDir } from ${JSON.stringify(LOCK_MODULE)};
try { lockStateDir(${JSON.stringify(dir)}); console.log("locked"); } catch (err) { console.log(err.name); }
setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const said = new Promise<string>((ok) => child.stdout!.on("data", (b: Buffer) => {
    out += b.toString();
    if (out.includes("\n")) ok(out.trim());
  }));
  return { child, said };
}

/** A live process that holds nothing: its pid and start time are what a lock file could name. */
function liveProcess(): { child: ChildProcess; said: Promise<string> } {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  return { child, said: once(child, "spawn").then(() => "spawned") };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, "exit");
  child.kill("SIGKILL");
  await gone;
}

test("a second lock on the same dir in this process is refused, naming the dir and the pid; release frees it, once", () => {
  const dir = newDir();
  try {
    const first = lockStateDir(dir);
    assert.equal(lstatSync(first.path).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(first.path, "utf8")), { v: 1, pid: process.pid, startTime: procStat(process.pid)!.startTime, bootId: bootId() });
    assert.throws(() => lockStateDir(dir), (err) => err instanceof StateDirInUseError && err.pid === process.pid && err.message.includes(dir) && err.message.includes(`pid ${process.pid}`));
    first.release();
    assert.deepEqual(lockFiles(dir), []);
    const second = lockStateDir(dir);
    first.release();
    assert.deepEqual(lockFiles(dir), [second.path.split("/").pop()], "a second release of the old lock leaves the new holder's file alone");
    second.release();
    assert.deepEqual(readdirSync(dir), [], "no temp file is left");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("another live process holding the dir is refused; once it is killed, its lock no longer blocks", { timeout: 30_000 }, async () => {
  const dir = newDir();
  const other = otherProcess(dir);
  try {
    assert.equal(await other.said, "locked");
    assert.throws(() => lockStateDir(dir), (err) => err instanceof StateDirInUseError && err.pid === other.child.pid && err.message.includes(`pid ${other.child.pid}`) && err.message.includes(dir));
    await kill(other.child);
    assert.equal(lockFiles(dir).length, 1, "a killed process leaves its lock file");
    const log = warnLog();
    const lock = lockStateDir(dir, log);
    assert.deepEqual(lockFiles(dir), ["owner.lock.2"], "the dead holder's file is gone, ours is a new name");
    assert.match(log.warnings.join("\n"), new RegExp(`took over the deploy state dir from a microship process that is gone.*"pid":${other.child.pid}`));
    lock.release();
  } finally {
    await kill(other.child);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a reused pid (live, another start time), a dead pid and another boot's lock are taken over", { timeout: 30_000 }, async () => {
  const dir = newDir();
  const live = liveProcess();
  try {
    await live.said;
    const liveStart = procStat(live.child.pid!)!.startTime;
    const dead = spawn("true");
    await once(dead, "exit");
    writeFileSync(join(dir, "owner.lock.1"), holder(live.child.pid!, String(Number(liveStart) + 1)), { mode: 0o600 });
    writeFileSync(join(dir, "owner.lock.2"), holder(dead.pid!, liveStart), { mode: 0o600 });
    writeFileSync(join(dir, "owner.lock.3"), holder(live.child.pid!, liveStart, "00000000-0000-0000-0000-000000000000"), { mode: 0o600 });
    const lock = lockStateDir(dir);
    assert.deepEqual(lockFiles(dir), ["owner.lock.4"]);
    lock.release();
    // The control: the same live process with its real start time and boot is a holder.
    writeFileSync(join(dir, "owner.lock.9"), holder(live.child.pid!, liveStart), { mode: 0o600 });
    assert.throws(() => lockStateDir(dir), (err) => err instanceof StateDirInUseError && err.pid === live.child.pid);
  } finally {
    await kill(live.child);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a symlinked lock file is never followed (not even to a live holder's record) and is unlinked; garbage is replaced; a dir is left alone", { timeout: 30_000 }, async () => {
  const root = newDir();
  const dir = join(root, "state");
  mkdirSync(dir);
  const live = liveProcess();
  try {
    await live.said;
    const outside = join(root, "outside.json");
    const liveRecord = holder(live.child.pid!, procStat(live.child.pid!)!.startTime);
    writeFileSync(outside, liveRecord);
    symlinkSync(outside, join(dir, "owner.lock.1"));
    writeFileSync(join(dir, "owner.lock.2"), "not json at all");
    writeFileSync(join(dir, "owner.lock.3"), "x".repeat(5_000));
    mkdirSync(join(dir, "owner.lock.4"));
    writeFileSync(join(dir, "owner.lock.04"), liveRecord);
    const log = warnLog();
    const lock = lockStateDir(dir, log);
    assert.equal(lock.path, join(dir, "owner.lock.5"));
    assert.deepEqual(lockFiles(dir), ["owner.lock.04", "owner.lock.4", "owner.lock.5"], "the symlink and garbage went; a dir and a name that is not a generation stay");
    assert.equal(readFileSync(outside, "utf8"), liveRecord, "the symlink's target is untouched");
    assert.match(log.warnings.join("\n"), /a directory named like a deploy state lock is left alone/);
    lock.release();
  } finally {
    await kill(live.child);
    rmSync(root, { recursive: true, force: true });
  }
});

test("processes starting at once on a dead holder's dir: at most one holds it, the others are refused", { timeout: 30_000 }, async () => {
  const dir = newDir();
  writeFileSync(join(dir, "owner.lock.7"), holder(2 ** 22, "1"));
  const others = [0, 1, 2, 3].map(() => otherProcess(dir));
  try {
    const said = await Promise.all(others.map((o) => o.said));
    assert.ok(said.filter((s) => s === "locked").length <= 1, said.join(", "));
    assert.deepEqual(said.filter((s) => s !== "locked"), Array(said.filter((s) => s !== "locked").length).fill("StateDirInUseError"));
    assert.equal(existsSync(join(dir, "owner.lock.7")), !said.includes("locked"), "the dead holder's file goes once one holds the dir");
  } finally {
    await Promise.all(others.map((o) => kill(o.child)));
    rmSync(dir, { recursive: true, force: true });
  }
});
