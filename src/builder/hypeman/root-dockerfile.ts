import { createReadStream } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { c as tarCreate, x as untar } from "tar";
import type { SourceArchive } from "../builder.ts";

/**
 * The source as Hypeman must get it: a Hypeman server builds the Dockerfile at the tarball's root
 * and reads the `dockerfile` field only when there is none, so the Dockerfile microship chose
 * (a template, or one the repo config names elsewhere) has to be that root file. The archive is
 * repacked only when its root Dockerfile differs.
 */
export async function withRootDockerfile(source: SourceArchive, dockerfile: string, scratch: string): Promise<Readable> {
  const tree = join(scratch, "tree");
  await mkdir(tree, { recursive: true });
  await untar({ file: source.path, cwd: tree, strict: true, preservePaths: false });
  const current = await readFile(join(tree, "Dockerfile"), "utf8").catch(() => null);
  if (current === dockerfile) return source.open();
  await writeFile(join(tree, "Dockerfile"), dockerfile);
  const path = join(scratch, "source.tar.gz");
  // Sorted, with fixed times and owners, as the original archive was.
  await tarCreate({ gzip: true, cwd: tree, file: path, portable: true, noMtime: true }, (await readdir(tree)).sort());
  return createReadStream(path);
}
