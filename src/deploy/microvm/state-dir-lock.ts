import { randomBytes } from "node:crypto";
import { closeSync, constants, fstatSync, fsyncSync, linkSync, lstatSync, openSync, opendirSync, readSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { OpLog } from "../../core/ports.ts";
import { bootId, procStat } from "./proc-stat.ts";

/** Another live process (or another deployer of this one) owns the state dir: microship must not start. */
export class StateDirInUseError extends Error {
  readonly dir: string;
  readonly pid: number;
  constructor(dir: string, pid: number) {
    const who = pid === process.pid ? `this very process (pid ${pid}) through another deployer` : `another microship process, pid ${pid}`;
    super(`The microvm deploy state dir ${dir} is in use by ${who}. One process owns a state dir: stop that process, or give this one its own MICROSHIP_DATA_DIR.`);
    this.name = "StateDirInUseError";
    this.dir = dir;
    this.pid = pid;
  }
}

export interface StateDirLock {
  /** The lock file this process holds. */
  readonly path: string;
  /** Removes the lock file if it is still this one (idempotent). */
  release(): void;
}

const holderSchema = z.object({
  v: z.literal(1),
  pid: z.number().int().min(1).max(2 ** 22),
  startTime: z.string().regex(/^[0-9]{1,20}$/),
  bootId: z.string().max(64),
}).strict();
type Holder = z.infer<typeof holderSchema>;

const LOCK = /^owner\.lock\.([1-9][0-9]{0,8})$/;
const MAX_GENERATION = 999_999_999;
const MAX_ENTRIES = 10_000;
const ATTEMPTS = 5;

/**
 * Takes the state dir for this process's life. Node has no flock, and proper-lockfile judges a
 * holder dead by an mtime it must keep touching; on one host the kernel says for sure: a holder is
 * alive only if its pid runs with the /proc start time (and boot) it recorded, as stale-qemu.ts
 * judges a QEMU. Each lock file is a generation, `owner.lock.N` (N above every name there), written
 * whole under another name (0600, fsynced) and linked into place: link() makes a name only if it is
 * free, and a dead holder's file is never replaced by name (that races: two could both "replace"
 * it), only removed once a newer one is ours and no other live holder is there. Holders are read
 * bounded and without following symlinks; a symlink or garbage is a dead holder, unlinked. Pids
 * mean something only in one pid namespace: two containers sharing the data dir are not told apart.
 */
export function lockStateDir(dir: string, log?: OpLog): StateDirLock {
  const me = selfHolder();
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const gens = generations(dir);
    const other = liveOf(dir, gens, me);
    if (other) throw new StateDirInUseError(dir, other.pid);
    const mine = Math.max(0, ...gens) + 1;
    if (mine > MAX_GENERATION) throw new Error(`The deploy state dir ${dir} holds owner.lock.${mine - 1}; remove its owner.lock.* files and start again.`);
    const path = join(dir, `owner.lock.${mine}`);
    const id = publish(dir, path, me);
    if (id === null) continue;
    const lock = heldLock(path, id);
    // A name made while the dir was being listed can be missed; after our link, any other live
    // holder is seen for sure, and then we back off (two starting at once may both refuse: safe).
    const racer = liveOf(dir, generations(dir).filter((g) => g !== mine), me);
    if (racer) {
      lock.release();
      throw new StateDirInUseError(dir, racer.pid);
    }
    removeStale(dir, mine, me, log);
    return lock;
  }
  throw new Error(`Could not lock the deploy state dir ${dir}: other processes keep taking it (${ATTEMPTS} tries).`);
}

function liveOf(dir: string, gens: number[], me: Holder): Holder | null {
  for (const g of gens) {
    const h = liveHolder(join(dir, `owner.lock.${g}`), me);
    if (h) return h;
  }
  return null;
}

function selfHolder(): Holder {
  const s = procStat(process.pid);
  if (!s) throw new Error("microship's microvm deployer needs /proc to tell a live process from a dead one");
  return { v: 1, pid: process.pid, startTime: s.startTime, bootId: bootId() };
}

/** The generations of lock files in the dir (bounded; other names are not ours). */
function generations(dir: string): number[] {
  const out: number[] = [];
  const d = opendirSync(dir);
  try {
    for (let seen = 0, ent = d.readSync(); ent && seen < MAX_ENTRIES; ent = d.readSync(), seen++) {
      const m = LOCK.exec(ent.name);
      if (m) out.push(Number(m[1]));
    }
  } finally {
    d.closeSync();
  }
  return out;
}

/** The holder a lock file names if it is alive now (same pid, start time and boot); null for a dead one, a symlink or garbage. */
function liveHolder(path: string, me: Holder): Holder | null {
  const h = readHolder(path);
  return h && isAlive(h, me) ? h : null;
}

function isAlive(h: Holder, me: Holder): boolean {
  if (h.bootId !== me.bootId) return false;
  const s = procStat(h.pid);
  return s !== null && s.startTime === h.startTime && s.state !== "Z";
}

function readHolder(path: string): Holder | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > 1024) return null;
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    const got = holderSchema.safeParse(JSON.parse(buf.subarray(0, n).toString("utf8")));
    return got.success ? got.data : null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

interface FileId {
  dev: bigint;
  ino: bigint;
}

/** Writes the holder whole and links it to `path`; the file's id, or null when the name was taken first. */
function publish(dir: string, path: string, me: Holder): FileId | null {
  // A dot name ending in .tmp: one a kill leaves is removed by the state store's load.
  const tmp = join(dir, `.owner-lock.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, JSON.stringify(me));
    fsyncSync(fd);
    const { dev, ino } = fstatSync(fd, { bigint: true });
    linkSync(tmp, path);
    return { dev, ino };
  } catch (err) {
    // EEXIST: a racer took the name; ENOENT: the holder's load removed our temp file. Try again.
    if (["EEXIST", "ENOENT"].includes((err as NodeJS.ErrnoException).code ?? "")) return null;
    throw err;
  } finally {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone (see above).
    }
  }
}

function heldLock(path: string, id: FileId): StateDirLock {
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      // Only our own file: a test (or an operator) may have put another in its place.
      const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
      if (st && st.dev === id.dev && st.ino === id.ino) unlinkSync(path);
    },
  };
}

/** Removes the other generations whose holder is gone (a symlink is unlinked, never followed). */
function removeStale(dir: string, mine: number, me: Holder, log?: OpLog): void {
  for (const g of generations(dir)) {
    if (g === mine) continue;
    const path = join(dir, `owner.lock.${g}`);
    const h = readHolder(path);
    if (h && isAlive(h, me)) continue;
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) {
      log?.warn({ path }, "a directory named like a deploy state lock is left alone; remove it");
      continue;
    }
    try {
      unlinkSync(path);
    } catch {
      continue;
    }
    log?.warn({ dir, pid: h?.pid ?? null }, h ? "took over the deploy state dir from a microship process that is gone" : "removed a deploy state lock file that was not one (garbage or a symlink)");
  }
}
