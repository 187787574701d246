import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, type Stats } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Pack } from "tar";
import type { SourceArchive } from "../core/builder.ts";
import { userError } from "../core/errors.ts";
import { dockerignoreMatcher, hasExceptions } from "./dockerignore.ts";
import { memoryEntry } from "./memory-entry.ts";
import { resolveBeneath } from "./resolve-beneath.ts";
import { CONFIG_MAX_BYTES, safeReadFile } from "./safe-read.ts";
import { shownPath } from "./shown-path.ts";

export interface ArchiveOptions {
  outPath: string;
  /** Used when the directory has no .dockerignore of its own. */
  dockerignore?: string | null;
  /**
   * The Dockerfile microship chose (a template, or the file the config names). It goes into the
   * stream as the archive's first entry, `Dockerfile`, in place of any the app has: Hypeman builds
   * the tarball's root Dockerfile, and nothing is ever written into the checkout.
   */
  dockerfile?: string | null;
  /** The app directory from the repository's top, for messages ("." for the whole repo). */
  appRoot?: string;
  maxBytes?: number;
  maxFiles?: number;
}

export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
export const DEFAULT_MAX_FILES = 100_000;
// A fixed timestamp: the same tree gives the same bytes, whenever it was checked out.
const EPOCH = new Date("2000-01-01T00:00:00Z");

/**
 * A deterministic, safe, streamed tar.gz of an app directory, honouring .dockerignore.
 * Every symlink is followed inside the real tree (resolve-beneath.ts) and refused when it leaves
 * it, dangles or loops; special files, names that are not UTF-8 and links at the paths microship
 * reads or writes itself are refused too, all as user errors naming the path.
 */
export async function createSourceArchive(appDir: string, o: ArchiveOptions): Promise<SourceArchive & { dockerignoreUsed: "repo" | "generated" | "none" }> {
  const root = await realpath(appDir);
  // Names come from the repository: shown escaped, so none can break a message's markdown.
  const repoPath = (rel: string) => shownPath(!o.appRoot || o.appRoot === "." ? rel : `${o.appRoot.replace(/\/+$/, "")}/${rel}`);
  const own = await safeReadFile(root, ".dockerignore", { noLink: true, maxBytes: CONFIG_MAX_BYTES, display: repoPath(".dockerignore") });
  const ignoreText = own ?? o.dockerignore ?? null;
  const ignored = ignoreText ? dockerignoreMatcher(ignoreText) : () => false;
  const walkExcluded = ignoreText ? hasExceptions(ignoreText) : false;
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxFiles = o.maxFiles ?? DEFAULT_MAX_FILES;
  const generated = o.dockerfile == null ? null : Buffer.from(o.dockerfile, "utf8");
  if (generated) await checkDockerfileSlot(root, repoPath("Dockerfile"));

  const listed = await listEntries(root, { ignored, walkExcluded, skipDockerfile: generated !== null, repoPath, maxBytes, maxFiles, startBytes: generated?.length ?? 0 });
  if (listed.entries.length === 0 && listed.leftOut > 0) throw emptyContext(repoPath(".dockerignore"), own !== null);
  const written = await writeArchive(root, listed.entries, generated, o.outPath);
  const out = o.outPath;
  return {
    path: out,
    open: () => createReadStream(out),
    sha256: written.sha256,
    sizeBytes: (await stat(out)).size || written.size,
    fileCount: listed.files + (generated ? 1 : 0),
    dockerignoreUsed: own !== null ? "repo" : o.dockerignore ? "generated" : "none",
  };
}

interface ListOptions {
  ignored: (rel: string, isDir: boolean) => boolean;
  /** Walk into excluded directories, because `!` exceptions may bring files back. */
  walkExcluded: boolean;
  /** The generated Dockerfile replaces the app's own in the stream. */
  skipDockerfile: boolean;
  repoPath: (rel: string) => string;
  maxBytes: number;
  maxFiles: number;
  startBytes: number;
}

/** The paths that go into the archive, in a stable order, checked and counted against the caps. */
async function listEntries(root: string, o: ListOptions): Promise<{ entries: string[]; files: number; leftOut: number }> {
  const entries: string[] = [];
  let bytes = o.startBytes;
  let files = 0;
  let leftOut = 0;
  const walk = async (dir: string, relDir: string): Promise<void> => {
    const names = (await readdir(dir, { encoding: "buffer" })).sort(Buffer.compare);
    for (const raw of names) {
      if (!isUtf8(raw)) throw badName(o.repoPath(relDir ? `${relDir}/` : ""), raw);
      const name = raw.toString("utf8");
      const abs = join(dir, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      const st = await lstat(abs);
      if (o.ignored(rel, st.isDirectory())) {
        leftOut++;
        if (st.isDirectory() && o.walkExcluded) await walk(abs, rel);
        continue;
      }
      if (o.skipDockerfile && rel === "Dockerfile") continue;
      if (st.isSymbolicLink()) await checkLink(root, rel, o.repoPath(rel));
      else if (st.isDirectory()) {
        entries.push(rel);
        await walk(abs, rel);
        continue;
      } else if (!st.isFile()) throw specialFile(o.repoPath(rel), st);
      else bytes += st.size;
      files++;
      entries.push(rel);
      if (files > o.maxFiles) throw userError(`The source has more than ${o.maxFiles} files.`, { title: "Source too large", hint: "Add generated and vendored directories to .dockerignore, or ask your operator to raise the file cap." });
      if (bytes > o.maxBytes) throw userError(`The source is larger than ${Math.round(o.maxBytes / 1024 / 1024)} MiB.`, { title: "Source too large", hint: "Add build outputs, assets and dependencies to .dockerignore, or ask your operator to raise the size cap." });
    }
  };
  await walk(root, "");
  return { entries, files, leftOut };
}

/** Packs `entries` (and the generated Dockerfile, as a stream entry) into a gzipped tar at `outPath`. */
async function writeArchive(root: string, entries: string[], generated: Buffer | null, outPath: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const pack = new Pack({ cwd: root, gzip: { level: 6 }, portable: true, mtime: EPOCH, noDirRecurse: true, follow: false, noPax: true });
  if (generated) pack.write(memoryEntry("Dockerfile", generated, EPOCH));
  for (const e of entries) pack.write(e);
  pack.end();
  await pipeline(pack as unknown as NodeJS.ReadableStream, tap, createWriteStream(outPath));
  return { sha256: hash.digest("hex"), size };
}

/** The app's own root Dockerfile is replaced in the stream; it must be a plain file or absent. */
async function checkDockerfileSlot(root: string, shown: string): Promise<void> {
  const st = await lstat(join(root, "Dockerfile")).catch(() => null);
  if (st === null || st.isFile()) return;
  const what = st.isSymbolicLink() ? "a symlink" : st.isDirectory() ? "a directory" : "a special file";
  throw userError(`\`${shown}\` is ${what}. microship puts the Dockerfile it builds at that path itself, and follows no link there.`, {
    title: "Unsafe Dockerfile path",
    location: { file: shown },
    hint: `Make ${shown} a regular file, or remove it (set \`dockerfile:\` in .github/microship.yml to use a Dockerfile elsewhere).`,
  });
}

async function checkLink(root: string, rel: string, shown: string): Promise<void> {
  if (rel === ".dockerignore") {
    throw userError(`\`${shown}\` is a symlink. microship reads that file itself and follows no link there.`, {
      title: "Unsafe symlink in the source",
      location: { file: shown },
      hint: `Make ${shown} a regular file.`,
    });
  }
  const r = await resolveBeneath(root, rel);
  if (r.kind === "inside") return;
  const why = r.kind === "leaves" ? "leads outside the app directory" : r.kind === "loops" ? "is part of a symlink loop" : "points at nothing (a dangling link)";
  throw userError(`\`${shown}\` is a symlink that ${why}.`, {
    title: "Unsafe symlink in the source",
    location: { file: shown },
    hint: "Builds only see the app directory: replace the link with the file, point it at a file inside the app directory, or add it to .dockerignore.",
  });
}

function specialFile(shown: string, st: Stats) {
  return userError(`\`${shown}\` is a ${st.isFIFO() ? "named pipe" : st.isSocket() ? "socket" : "device file"}, which cannot go into a build context.`, {
    title: "Special file in the source",
    location: { file: shown },
    hint: "Remove it from the repository or add it to .dockerignore.",
  });
}

function badName(dir: string, raw: Buffer) {
  const shown = `${dir}${shownPath(raw)}`;
  return userError(`The file name \`${shown}\` is not valid UTF-8 (bytes shown as \\xNN).`, {
    title: "File name is not UTF-8",
    hint: `Rename ${shown} to a UTF-8 name (\`git mv\`), or add it to .dockerignore.`,
  });
}

function emptyContext(shown: string, repoOwn: boolean) {
  return repoOwn
    ? userError(`\`${shown}\` leaves nothing in the build context: every file of the app is excluded.`, {
        title: "Empty build context",
        location: { file: shown },
        hint: `Fix the patterns in ${shown} (a \`*\` line excludes everything; add \`!\` lines for what the build needs).`,
      })
    : userError("Nothing is left in the build context once .git, node_modules, .venv and .env files are left out.", {
        title: "Empty build context",
        hint: "Add the app's files to the repository, or a .dockerignore of your own.",
      });
}
