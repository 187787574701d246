import { lstat, mkdir, open, readFile, rm } from "node:fs/promises";
import { constants } from "node:fs";
import { join } from "node:path";

/**
 * A directory inside an unpacked image root, made so that no component is a symlink: an image may
 * ship `/usr/local/bin -> /etc`, which on the host would lead out of the root. A symlink or file
 * in the way is replaced by a directory (the image's own content there is lost, which is rare and
 * harmless to a deploy).
 */
export async function safeDir(root: string, rel: string[]): Promise<string> {
  let path = root;
  for (const part of rel) {
    path = join(path, part);
    const st = await lstat(path).catch(() => null);
    if (st?.isDirectory()) continue;
    if (st) await rm(path, { force: true, recursive: false });
    await mkdir(path, { mode: 0o755 });
  }
  return path;
}

/** Writes a file, refusing to follow a symlink at its own name (its directory came from safeDir). */
export async function writeNoFollow(path: string, text: string | Uint8Array, mode: number): Promise<void> {
  const st = await lstat(path).catch(() => null);
  if (st && !st.isFile()) await rm(path, { force: true, recursive: true });
  const f = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, mode);
  try {
    await f.writeFile(text);
    await f.chmod(mode);
  } finally {
    await f.close();
  }
}

const MAX_ACCOUNTS_FILE = 1024 * 1024;

/**
 * Makes sure /etc/passwd (or /etc/group) has an entry of this id, appending `line` when not: the
 * guest's start-stop-daemon switches users by entry, and images often name a bare numeric USER.
 * A symlinked or oversized file is left alone (the app then fails its start, which the user sees).
 */
export async function ensureAccount(etc: string, file: "passwd" | "group", id: number, line: string): Promise<void> {
  const path = join(etc, file);
  const st = await lstat(path).catch(() => null);
  if (st && (!st.isFile() || st.size > MAX_ACCOUNTS_FILE)) return;
  const text = st ? await readFile(path, "utf8") : "";
  for (const l of text.split("\n")) if (l.split(":")[2] === String(id)) return;
  await writeNoFollow(path, `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}${line}\n`, st ? st.mode & 0o777 : 0o644);
}
