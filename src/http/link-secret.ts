import { randomBytes } from "node:crypto";
import { closeSync, constants, fchmodSync, fstatSync, linkSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { OpLog } from "../core/ports.ts";

const FILE = "log-link.key";
const BYTES = 32;

/**
 * The key of the log links. A random key made once and kept in the data dir, rather than one
 * derived from the app's private key: it depends on no library's way of loading that key, a key
 * rotation leaves the links working, and the private key signs nothing but GitHub's JWTs.
 * Replicas that must accept each other's links share MICROSHIP_LOG_SECRET instead.
 */
export function loadLinkSecret(dataDir: string, configured: string | undefined, log: OpLog): string | Buffer {
  if (configured) return configured;
  const path = join(dataDir, FILE);
  // Written whole under another name, then linked into place: link() fails if the key exists,
  // so two processes starting on one data dir agree on the first, and none reads half a key.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  const out = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(out, randomBytes(BYTES));
  } finally {
    closeSync(out);
  }
  try {
    linkSync(tmp, path);
    log.info({ path }, "made a new key for log links");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    unlinkSync(tmp);
  }
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size !== BYTES) {
      throw new Error(`${path} is not the ${BYTES}-byte key microship writes; delete it to make a new one (old log links stop working)`);
    }
    if ((stat.mode & 0o077) !== 0) {
      fchmodSync(fd, 0o600);
      log.warn({ path }, "the log link key was readable by others; its mode is now 0600");
    }
    const key = Buffer.alloc(BYTES);
    readSync(fd, key, 0, BYTES, 0);
    return key;
  } finally {
    closeSync(fd);
  }
}
