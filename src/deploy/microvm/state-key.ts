import { randomBytes } from "node:crypto";
import { closeSync, constants, fchmodSync, fstatSync, linkSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import type { OpLog } from "../../core/ports.ts";

const BYTES = 32;

/**
 * The AES-256 key of the deploy state's env values: random, made once, kept beside (not inside)
 * the state dir, the way the log-link key is kept (src/http/link-secret.ts): written whole under
 * another name and linked into place, so two processes agree on the first and none reads half.
 */
export function loadStateKey(path: string, log?: OpLog): Buffer {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  const out = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(out, randomBytes(BYTES));
  } finally {
    closeSync(out);
  }
  try {
    linkSync(tmp, path);
    log?.info({ path }, "made a new key for the deploy state");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    unlinkSync(tmp);
  }
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size !== BYTES) throw new Error(`${path} is not the ${BYTES}-byte key microship writes; delete it (the saved deployments' env is then lost)`);
    if ((stat.mode & 0o077) !== 0) {
      fchmodSync(fd, 0o600);
      log?.warn({ path }, "the deploy state key was readable by others; its mode is now 0600");
    }
    const key = Buffer.alloc(BYTES);
    readSync(fd, key, 0, BYTES, 0);
    return key;
  } finally {
    closeSync(fd);
  }
}
