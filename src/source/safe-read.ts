import { constants } from "node:fs";
import { lstat, open, realpath } from "node:fs/promises";
import { dirname, join } from "node:path";
import { userError } from "../core/errors.ts";
import { resolveBeneath } from "./resolve-beneath.ts";
import { shownPath } from "./shown-path.ts";

/**
 * The one way microship reads repository content on the host. The repository is hostile: a
 * config linked to /etc/hostname would land in a public check run, one linked to /dev/zero
 * reads forever. So a path is resolved inside the repository root (never above it, see
 * resolve-beneath.ts), only a regular file is opened (O_NOFOLLOW, O_NONBLOCK so a FIFO swapped
 * in cannot block), and reading stops at a cap instead of after the whole file.
 */
export interface SafeReadOptions {
  /** Largest file accepted, in bytes. */
  maxBytes?: number;
  /** A path microship reads for itself (its config, .dockerignore, the root Dockerfile): no link at all. */
  noLink?: boolean;
  /** How the file is named in messages: its path from the repository's top. */
  display?: string;
}

export const CONFIG_MAX_BYTES = 1024 * 1024;

const CHUNK = 64 * 1024;

/** `rel` under `root` as UTF-8 text, or null when it does not exist (or is a directory). */
export async function safeReadFile(root: string, rel: string, o: SafeReadOptions = {}): Promise<string | null> {
  const shown = o.display ?? rel;
  const abs = await safeLocate(root, rel, o);
  if (abs === null) return null;
  const maxBytes = o.maxBytes ?? CONFIG_MAX_BYTES;
  const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    // ELOOP: the last component became a link after it was checked.
    if (err.code === "ELOOP") throw linkError(shown, "is a symlink");
    throw err;
  });
  try {
    const st = await fh.stat();
    if (st.isDirectory()) return null;
    if (!st.isFile()) throw specialError(shown, st);
    const chunks: Buffer[] = [];
    let got = 0;
    // Never trust st.size: the cap holds however the file changes while it is read.
    while (got <= maxBytes) {
      const chunk = Buffer.alloc(Math.min(CHUNK, maxBytes + 1 - got));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, got);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      got += bytesRead;
    }
    if (got > maxBytes) throw tooBig(shown, maxBytes);
    return Buffer.concat(chunks, got).toString("utf8");
  } finally {
    await fh.close();
  }
}

/**
 * Whether `rel` exists inside the repository, never looking outside it: a dangling link does
 * not exist, and a link that leaves the repository (or loops) is the same user error as for a
 * read, whether or not its target exists, so no answer tells anything about the host.
 */
export async function safeExists(root: string, rel: string, display = rel): Promise<boolean> {
  const r = await resolveBeneath(await realpath(root), rel);
  if (r.kind === "leaves" || r.kind === "loops") throw linkError(display, why(r.kind));
  return r.kind === "inside";
}

/** The real path of `rel` when it is a readable regular file inside the root, null when absent. */
async function safeLocate(root: string, rel: string, o: SafeReadOptions): Promise<string | null> {
  const shown = o.display ?? rel;
  const base = await realpath(root);
  if (o.noLink) {
    const parent = await resolveBeneath(base, dirname(rel));
    if (parent.kind === "leaves" || parent.kind === "loops") throw linkError(shown, why(parent.kind));
    if (parent.kind === "missing") return null;
    const own = await lstat(join(parent.path, rel.split("/").pop()!)).catch(() => null);
    if (own === null) return null;
    if (own.isSymbolicLink()) throw linkError(shown, "is a symlink");
  }
  const r = await resolveBeneath(base, rel);
  if (r.kind === "missing") return null;
  if (r.kind !== "inside") throw linkError(shown, why(r.kind));
  const st = await lstat(r.path);
  if (st.isDirectory()) return null;
  if (!st.isFile()) throw specialError(shown, st);
  return r.path;
}

const why = (kind: "leaves" | "loops") => (kind === "loops" ? "is part of a symlink loop" : "leads outside the repository");

function linkError(name: string, reason: string) {
  const file = shownPath(name);
  const own = reason === "is a symlink";
  return userError(`\`${file}\` ${reason}, so microship will not read it.`, {
    title: own ? "Symlink at a path microship reads" : reason.includes("loop") ? "Symlink loop" : "Path outside the repository",
    location: { file },
    hint: own
      ? `Make ${file} a regular file: microship reads it itself and follows no link at that path.`
      : `Make ${file} a regular file inside the repository: microship follows no link out of it.`,
  });
}

function specialError(name: string, st: { isFIFO(): boolean; isSocket(): boolean }) {
  const file = shownPath(name);
  const what = st.isFIFO() ? "a named pipe" : st.isSocket() ? "a socket" : "a device file";
  return userError(`\`${file}\` is ${what}, not a regular file, so microship will not read it.`, {
    title: "Special file in the repository",
    location: { file },
    hint: `Replace ${file} with a regular file, or remove it.`,
  });
}

function tooBig(name: string, maxBytes: number) {
  const file = shownPath(name);
  return userError(`\`${file}\` is larger than ${formatBytes(maxBytes)}, so microship will not read it.`, {
    title: "File too large",
    location: { file },
    hint: `Keep ${file} under ${formatBytes(maxBytes)}.`,
  });
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MiB` : `${n} bytes`;
}
