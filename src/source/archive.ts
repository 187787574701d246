import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, readdir, readFile, readlink, stat } from "node:fs/promises";
import { join, relative, resolve, dirname, sep } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { c as createTar } from "tar";
import type { SourceArchive } from "../builder/builder.ts";
import { userError } from "../core/errors.ts";
import { dockerignoreMatcher, hasExceptions } from "./dockerignore.ts";

export interface ArchiveOptions {
  outPath: string;
  /** Used when the directory has no .dockerignore of its own. */
  dockerignore?: string | null;
  maxBytes?: number;
  maxFiles?: number;
}

export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
export const DEFAULT_MAX_FILES = 100_000;
// A fixed timestamp: the same tree gives the same bytes, whenever it was checked out.
const EPOCH = new Date("2000-01-01T00:00:00Z");

/**
 * A deterministic, safe, streamed tar.gz of an app directory, honouring .dockerignore.
 * Symlinks that leave the tree and special files are refused as user errors.
 */
export async function createSourceArchive(appDir: string, o: ArchiveOptions): Promise<SourceArchive & { dockerignoreUsed: "repo" | "generated" | "none" }> {
  const root = resolve(appDir);
  const own = await readFile(join(root, ".dockerignore"), "utf8").catch(() => null);
  const ignoreText = own ?? o.dockerignore ?? null;
  const ignored = ignoreText ? dockerignoreMatcher(ignoreText) : () => false;
  const walkExcluded = ignoreText ? hasExceptions(ignoreText) : false;
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxFiles = o.maxFiles ?? DEFAULT_MAX_FILES;

  const entries: string[] = [];
  let bytes = 0;
  let files = 0;
  const walk = async (dir: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const abs = join(dir, name);
      const rel = relative(root, abs).split(sep).join("/");
      const st = await lstat(abs);
      if (ignored(rel, st.isDirectory())) {
        // A directory excluded as a whole may still hold `!` exceptions deeper down.
        if (st.isDirectory() && walkExcluded) await walk(abs);
        continue;
      }
      if (st.isSymbolicLink()) {
        const target = await readlink(abs);
        const landing = resolve(dirname(abs), target);
        if (target.startsWith("/") || (landing !== root && !landing.startsWith(root + sep))) {
          throw userError(`\`${rel}\` is a symlink to \`${target}\`, outside the app directory.`, {
            title: "Unsafe symlink in the source",
            location: { file: rel },
            hint: "Builds only see the app directory: replace the link with the file, point it inside the repo, or add it to .dockerignore.",
          });
        }
      } else if (st.isDirectory()) {
        entries.push(rel);
        await walk(abs);
        continue;
      } else if (!st.isFile()) {
        throw userError(`\`${rel}\` is a ${st.isFIFO() ? "named pipe" : st.isSocket() ? "socket" : "device file"}, which cannot go into a build context.`, {
          title: "Special file in the source",
          location: { file: rel },
          hint: "Remove it from the repository or add it to .dockerignore.",
        });
      } else {
        bytes += st.size;
      }
      files++;
      entries.push(rel);
      if (files > maxFiles) throw userError(`The source has more than ${maxFiles} files.`, { title: "Source too large", hint: "Add generated and vendored directories to .dockerignore, or ask your operator to raise the file cap." });
      if (bytes > maxBytes) throw userError(`The source is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB.`, { title: "Source too large", hint: "Add build outputs, assets and dependencies to .dockerignore, or ask your operator to raise the size cap." });
    }
  };
  await walk(root);

  const hash = createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const tarStream = createTar({ cwd: root, gzip: { level: 6 }, portable: true, mtime: EPOCH, noDirRecurse: true, follow: false, noPax: true }, entries);
  await pipeline(tarStream as unknown as NodeJS.ReadableStream, tap, createWriteStream(o.outPath));
  const out = o.outPath;
  return {
    path: out,
    open: () => createReadStream(out),
    sha256: hash.digest("hex"),
    sizeBytes: (await stat(out)).size || size,
    fileCount: files,
    dockerignoreUsed: own !== null ? "repo" : o.dockerignore ? "generated" : "none",
  };
}
