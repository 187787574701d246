import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bootId, procStat } from "../../../src/deploy/microvm/proc-stat.ts";
import { lockStateDir, StateDirInUseError, StateDirRefusal } from "../../../src/deploy/microvm/state-dir-lock.ts";
import { warnLog } from "../../helpers/saved-vms.ts";

const LOCK_MODULE = resolve("src/deploy/microvm/state-dir-lock.ts");
const newDir = () => mkdtempSync(join(tmpdir(), "ms-state-lock-"));
const myPidNs = readlinkSync("/proc/self/ns/pid");
const record = (pid: number, startTime: string) => JSON.stringify({ v: 2, pid, startTime, bootId: bootId(), pidNs: myPidNs, host: "" });

/**
 * Another microship process: it takes the dir's lock, says what happened, and holds on until
 * killed. With `spawnAfter`, it then starts a `sleep` of its own (as a deployer starts QEMUs) and
 * says its pid: that child must not inherit the lock.
 */
function otherProcess(dir: string, wrap: string[] = [], spawnAfter = false): { child: ChildProcess; said: Promise<string> } {
  const code = `import { lockStateDir } from ${JSON.stringify(LOCK_MODULE)};
import { spawn } from "node:child_process";
try {
  lockStateDir(${JSON.stringify(dir)});
  const extra = ${spawnAfter} ? " " + spawn("sleep", ["60"], { stdio: "ignore", detached: true }).pid : "";
  console.log("locked" + extra);
} catch (err) { console.log(err.name + ": " + err.message); }
setInterval(() => {}, 60_000);`;
  const argv = [...wrap, process.execPath, "--input-type=module", "-e", code];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const said = new Promise<string>((ok) => child.stdout!.on("data", (b: Buffer) => {
    out += b.toString();
    if (out.includes("\n")) ok(out.trim());
  }));
  return { child, said };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, "exit");
  child.kill("SIGKILL");
  await gone;
}

/** Every live process with an fd open on `path`: who could hold its flock (a leftover `flock` child included). */
function openers(path: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      if (procStat(Number(pid))?.state === "Z") continue;
      if (readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
        } catch {
          return false;
        }
      })) out.push(Number(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Whether util-linux's own flock (not microship's code) finds the file's lock free. */
const freeToFlock = (path: string) => spawnSync("flock", ["--exclusive", "--nonblock", "--conflict-exit-code", "75", path, "true"]).status === 0;

test("a second lock in this process is refused, naming this process; release empties the record and frees the lock, once; no flock process is left", () => {
  const dir = newDir();
  try {
    const first = lockStateDir(dir);
    assert.equal(first.path, join(dir, "owner.lock"));
    assert.equal(lstatSync(first.path).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(first.path, "utf8")), { v: 2, pid: process.pid, startTime: procStat(process.pid)!.startTime, bootId: bootId(), pidNs: myPidNs, host: hostname() });
    assert.deepEqual(openers(first.path), [process.pid], "the lock is held on this process's own fd: no flock child lives on");
    assert.equal(freeToFlock(first.path), false);
    assert.throws(() => lockStateDir(dir), (err) => err instanceof StateDirInUseError && err.pid === process.pid && err.message.includes(dir) && err.message.includes(`this very process (pid ${process.pid})`));
    first.release();
    assert.deepEqual(openers(first.path), [], "nothing holds the file after release");
    assert.equal(freeToFlock(first.path), true);
    assert.equal(readFileSync(first.path, "utf8"), "", "a clean stop leaves an empty record");
    const log = warnLog();
    const second = lockStateDir(dir, log);
    assert.deepEqual(log.warnings, [], "a clean stop is not taken over");
    first.release();
    assert.throws(() => lockStateDir(dir), StateDirInUseError, "a second release of the old lock leaves the new holder alone");
    second.release();
    assert.deepEqual(readdirSync(dir), ["owner.lock"], "the file stays (never unlinked), and nothing else is made");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("another process holding the dir is refused, naming its pid; SIGKILLed, it frees the dir at once, even with a child it started still running", { timeout: 30_000 }, async () => {
  const dir = newDir();
  const path = join(dir, "owner.lock");
  const other = otherProcess(dir, [], true);
  let sleeper = 0;
  try {
    const said = await other.said;
    assert.match(said, /^locked \d+$/);
    sleeper = Number(said.split(" ")[1]);
    assert.throws(() => lockStateDir(dir), (err) => err instanceof StateDirInUseError && err.pid === other.child.pid && err.message.includes(`another microship process, pid ${other.child.pid}.`) && err.message.includes(dir));
    assert.deepEqual(openers(path), [other.child.pid], "only the holder itself: neither a flock child nor its own child has the file open");
    await kill(other.child);
    assert.equal(procStat(sleeper)?.state !== undefined && procStat(sleeper)?.state !== "Z", true, "the holder's child outlives it (as a QEMU may)");
    assert.deepEqual(openers(path), [], "no process is left holding the file");
    const log = warnLog();
    const lock = lockStateDir(dir, log);
    assert.match(log.warnings.join("\n"), new RegExp(`took over the deploy state dir from a microship process that is gone.*"pid":${other.child.pid}`));
    assert.equal(JSON.parse(readFileSync(path, "utf8")).pid, process.pid);
    lock.release();
  } finally {
    await kill(other.child);
    if (sleeper) process.kill(sleeper, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a record naming a live process that holds no lock (this one; a forgery) does not block a start; garbage neither", () => {
  const dir = newDir();
  const path = join(dir, "owner.lock");
  try {
    for (const text of [record(process.pid, procStat(process.pid)!.startTime), record(1, procStat(1)?.startTime ?? "0"), "not json at all", "x".repeat(5_000)]) {
      writeFileSync(path, text, { mode: 0o600 });
      const lock = lockStateDir(dir);
      assert.equal(JSON.parse(readFileSync(path, "utf8")).pid, process.pid, text.slice(0, 40));
      lock.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("processes starting at once on one dir: exactly one holds it, the others are refused", { timeout: 30_000 }, async () => {
  const dir = newDir();
  writeFileSync(join(dir, "owner.lock"), record(2 ** 22, "1"));
  const others = [0, 1, 2, 3].map(() => otherProcess(dir));
  try {
    const said = await Promise.all(others.map((o) => o.said));
    assert.equal(said.filter((s) => s === "locked").length, 1, said.join("\n"));
    assert.equal(said.filter((s) => s.startsWith("StateDirInUseError: ")).length, 3, said.join("\n"));
  } finally {
    await Promise.all(others.map((o) => kill(o.child)));
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The pid (in our namespace) of `ppid`'s child. */
function childOf(ppid: number): number | null {
  for (const n of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${n}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] === String(ppid)) return Number(n);
    } catch {
      // Gone meanwhile.
    }
  }
  return null;
}

function unshareSkip(): string | false {
  if (process.getuid?.() !== 0) return "needs root for unshare --pid";
  const r = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "true"], { timeout: 10_000 });
  return r.status === 0 ? false : `unshare --pid --fork --mount-proc fails here: ${r.stderr?.toString().slice(0, 200)}`;
}

test("a holder in another pid namespace (another container on this host) blocks a start here, named as such; SIGKILLed, it frees the dir", { timeout: 30_000, skip: unshareSkip() }, async () => {
  const dir = newDir();
  const other = otherProcess(dir, ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL"]);
  try {
    assert.equal(await other.said, "locked");
    const holder = childOf(other.child.pid!);
    assert.ok(holder, "the holder runs under unshare");
    assert.notEqual(readlinkSync(`/proc/${holder}/ns/pid`), myPidNs);
    const inNs = JSON.parse(readFileSync(join(dir, "owner.lock"), "utf8")).pid;
    assert.equal(inNs, 1, "its pid in its namespace: the pid here means nothing there");
    assert.throws(() => lockStateDir(dir), (err) => err instanceof StateDirInUseError && err.message.includes(`pid 1 in another pid namespace on host ${hostname()}`));
    process.kill(holder, "SIGKILL");
    await once(other.child, "exit");
    const lock = lockStateDir(dir);
    lock.release();
  } finally {
    await kill(other.child);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a symlinked, hard-linked, directory or FIFO lock file is refused and left alone, never followed (not even to a live holder's record)", { timeout: 30_000 }, () => {
  const root = newDir();
  const dir = join(root, "state");
  const path = join(dir, "owner.lock");
  const outside = join(root, "outside.json");
  const liveRecord = record(process.pid, procStat(process.pid)!.startTime);
  writeFileSync(outside, liveRecord);
  const cases: [string, () => void, RegExp][] = [
    ["symlink", () => symlinkSync(outside, path), /is a symlink/],
    ["hard link", () => linkSync(outside, path), /other names \(hard links\)/],
    ["directory", () => mkdirSync(path), /is a directory/],
    ["fifo", () => assert.equal(spawnSync("mkfifo", [path]).status, 0), /not a regular file/],
  ];
  try {
    for (const [what, make, says] of cases) {
      mkdirSync(dir);
      make();
      assert.throws(() => lockStateDir(dir), (err) => err instanceof StateDirRefusal && !(err instanceof StateDirInUseError) && says.test(err.message) && err.message.includes(path), what);
      assert.ok(lstatSync(path), `${what} is left for the operator`);
      assert.equal(readFileSync(outside, "utf8"), liveRecord, `${what}: the outside file is untouched`);
      rmSync(dir, { recursive: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
