import { randomBytes } from "node:crypto";
import { closeSync, constants, fchmodSync, fstatSync, linkSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import type { OpLog } from "./ports.ts";

const BYTES = 32;

/** What the key is for, in the operator's log and in the error for a file that is not one. */
export interface KeyFileUse {
  /** "the log links", "the deploy state". */
  what: string;
  /** What deleting the file costs, for the error (e.g. "old log links stop working"). */
  ifDeleted: string;
}

/**
 * A random 32-byte key made once and kept at `path` (mode 0600). Written whole under another name,
 * then linked into place: link() fails if the key exists, so two processes starting at once agree
 * on the first, and none reads half a key. Never through a symlink; a key readable by others is
 * made private again, with a warning.
 */
export function loadKeyFile(path: string, use: KeyFileUse, log?: OpLog): Buffer {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  const out = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(out, randomBytes(BYTES));
  } finally {
    closeSync(out);
  }
  try {
    linkSync(tmp, path);
    log?.info({ path }, `made a new key for ${use.what}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    unlinkSync(tmp);
  }
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size !== BYTES) throw new Error(`${path} is not the ${BYTES}-byte key microship writes; delete it to make a new one (${use.ifDeleted})`);
    if ((stat.mode & 0o077) !== 0) {
      fchmodSync(fd, 0o600);
      log?.warn({ path }, `the key for ${use.what} was readable by others; its mode is now 0600`);
    }
    const key = Buffer.alloc(BYTES);
    readSync(fd, key, 0, BYTES, 0);
    return key;
  } finally {
    closeSync(fd);
  }
}
