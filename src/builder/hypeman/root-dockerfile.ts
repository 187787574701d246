import { createReadStream, createWriteStream } from "node:fs";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Pack, Parser, type ReadEntry } from "tar";
import type { SourceArchive } from "../../core/builder.ts";
import { memoryEntry } from "../../source/memory-entry.ts";

const EPOCH = new Date("2000-01-01T00:00:00Z");

/**
 * The source as Hypeman must get it: a Hypeman server builds the Dockerfile at the tarball's root
 * and reads the `dockerfile` field only when there is none, so the Dockerfile microship chose has
 * to be that root file. microship's own archives already carry it (archive.ts puts it first) and
 * go as they are. Any other archive is rewritten entry by entry, in the stream: never unpacked to
 * disk, where a `Dockerfile` symlink in the tree would be written through.
 */
export async function withRootDockerfile(source: SourceArchive, dockerfile: string, scratch: string): Promise<Readable> {
  const body = Buffer.from(dockerfile, "utf8");
  if (await carriesOnly(source, body)) return source.open();
  const path = join(scratch, "source.tar.gz");
  const pack = new Pack({ gzip: true, portable: true, noMtime: true });
  pack.write(memoryEntry("Dockerfile", body, EPOCH));
  const written = pipeline(pack as unknown as NodeJS.ReadableStream, createWriteStream(path));
  const parser = new Parser({ strict: true });
  parser.on("entry", (e: ReadEntry) => (isRootDockerfile(e.path) ? e.resume() : pack.write(e)));
  parser.on("end", () => pack.end());
  try {
    await pipeline(source.open(), parser as unknown as NodeJS.WritableStream);
  } catch (err) {
    written.catch(() => {});
    pack.destroy(err as Error);
    throw err;
  }
  await written;
  return createReadStream(path);
}

/** Whether the archive's one root `Dockerfile` entry is a regular file holding exactly `body`. */
async function carriesOnly(source: SourceArchive, body: Buffer): Promise<boolean> {
  let matches = 0;
  let others = 0;
  const parser = new Parser({ strict: true });
  parser.on("entry", (e: ReadEntry) => {
    if (!isRootDockerfile(e.path)) return e.resume();
    if (e.type !== "File" || e.size !== body.length) {
      others++;
      return e.resume();
    }
    const chunks: Buffer[] = [];
    e.on("data", (c: Buffer) => chunks.push(c));
    e.on("end", () => (Buffer.concat(chunks).equals(body) ? matches++ : others++));
  });
  await pipeline(source.open(), parser as unknown as NodeJS.WritableStream);
  return matches === 1 && others === 0;
}

function isRootDockerfile(p: string): boolean {
  return posix.normalize(p).replace(/^\/+/, "").replace(/\/+$/, "") === "Dockerfile";
}
