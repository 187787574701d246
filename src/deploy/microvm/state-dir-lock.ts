import { spawnSync } from "node:child_process";
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { join } from "node:path";
import type { OpLog } from "../../core/ports.ts";
import { describeHolder, readHolder, selfHolder, writeHolder, type Holder } from "./state-dir-holder.ts";

/** A start-up refused over the deploy state dir: said plainly, exit code 2 (src/start-refusal.ts). */
export class StateDirRefusal extends Error {
  readonly dir: string;
  constructor(dir: string, message: string) {
    super(message);
    this.name = "StateDirRefusal";
    this.dir = dir;
  }
}

/** Another live process (or another deployer of this one) owns the state dir: microship must not start. */
export class StateDirInUseError extends StateDirRefusal {
  /** The holder's pid as it recorded it (in its own pid namespace); null when it wrote none yet. */
  readonly pid: number | null;
  constructor(dir: string, holder: Holder | null, me: Holder) {
    super(dir, `The microvm deploy state dir ${dir} is in use by ${describeHolder(holder, me)}. One process owns a state dir: stop that process, or give this one its own MICROSHIP_DATA_DIR.`);
    this.name = "StateDirInUseError";
    this.pid = holder?.pid ?? null;
  }
}

export interface StateDirLock {
  /** The lock file this process holds. */
  readonly path: string;
  /** Clears the record and lets the lock go (idempotent). The file stays. */
  release(): void;
}

export const LOCK_FILE = "owner.lock";
const BUSY = 75;

/**
 * Takes the state dir for this process's life with an exclusive flock(2) on `owner.lock`. The
 * kernel is the judge: the lock is held while the open file description lives, and is dropped
 * when its last fd closes, so a holder killed any way (kill -9 too) frees it at once, a reused pid
 * means nothing, and two containers sharing the data dir on one host, in different pid
 * namespaces, see each other's lock (a pid in a file could not tell them apart). Node has no
 * flock, so util-linux's `flock` (Essential on Debian) takes it on our fd, handed to it as its
 * fd 3: `flock -xn -E 75 3` exits 0 with the lock taken, 75 if another description holds it,
 * nothing in between; flock locks belong to the description, not the process, so the lock stays
 * with our fd when flock exits. No child lives on to outlive us. Node opens with O_CLOEXEC, so a
 * child started later (a QEMU that outlives a kill) never inherits the fd and the lock with it.
 * The record written in the file names the holder in a refusal; it never decides anything.
 */
export function lockStateDir(dir: string, log?: OpLog): StateDirLock {
  const path = join(dir, LOCK_FILE);
  const me = selfHolder();
  const fd = openLockFile(dir, path);
  try {
    if (!takeFlock(fd)) throw new StateDirInUseError(dir, readHolder(fd), me);
    const before = readHolder(fd);
    // A clean stop empties the record, so one still there is a holder that did not stop cleanly.
    if (before) log?.warn({ dir, pid: before.pid, pidNs: before.pidNs }, "took over the deploy state dir from a microship process that is gone");
    writeHolder(fd, me);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return heldLock(path, fd);
}

/**
 * The lock file, made if missing and never unlinked or replaced, not even by a clean stop: a
 * starter may have opened the old inode just before an unlink, take the flock on it once the
 * holder closes, while a third creates a new file under the name and locks that: two holders.
 * It is opened without following a symlink, and must be a regular file with no other name (a
 * hard link would have us truncate someone else's file); anything else is the operator's to
 * remove, since removing it here could race with another starter creating the real one.
 */
function openLockFile(dir: string, path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP" || code === "EISDIR") throw notALockFile(dir, path, code === "ELOOP" ? "a symlink" : "a directory");
    throw err;
  }
  const st = fstatSync(fd);
  if (!st.isFile() || st.nlink !== 1) {
    closeSync(fd);
    throw notALockFile(dir, path, st.isFile() ? "a file with other names (hard links)" : "not a regular file");
  }
  return fd;
}

function notALockFile(dir: string, path: string, what: string): StateDirRefusal {
  return new StateDirRefusal(dir, `The microvm deploy state dir's lock file ${path} is ${what}; microship does not follow or remove it. Remove it and start again.`);
}

/** true: this fd's description now holds the exclusive lock; false: another one does. */
function takeFlock(fd: number): boolean {
  const r = spawnSync("flock", ["--exclusive", "--nonblock", "--conflict-exit-code", String(BUSY), "3"], {
    stdio: ["ignore", "ignore", "pipe", fd],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    timeout: 30_000,
    maxBuffer: 4096,
  });
  if (r.status === 0) return true;
  if (r.status === BUSY) return false;
  const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}: ${r.stderr?.toString("utf8").slice(0, 300).trim()}`;
  throw new Error(`Could not lock the microvm deploy state dir with util-linux's flock (${why}); microship needs /usr/bin/flock.`);
}

function heldLock(path: string, fd: number): StateDirLock {
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      try {
        writeHolder(fd, null);
      } finally {
        // The last fd of the description: the kernel drops the lock here.
        closeSync(fd);
      }
    },
  };
}
