import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { c as tarCreate, t as tarList, x as untar } from "tar";
import type { SourceArchive } from "../builder.ts";

export interface UploadSource {
  path: string;
  /** True when the archive was rewritten to carry the build's Dockerfile at its root. */
  rewritten: boolean;
  cleanup(): Promise<void>;
}

/**
 * Hypeman builds the tarball's own root Dockerfile and uses the `dockerfile` part only when the
 * tarball has none. So the Dockerfile we were given must be the one at the root: when the
 * archive has another (a repo whose config names a different file, a .dockerignore that leaves
 * it out), the archive is rewritten with ours in its place.
 */
export async function withRootDockerfile(source: SourceArchive, dockerfile: string, tmpDir: string): Promise<UploadSource> {
  if ((await rootDockerfile(source.path)) === dockerfile) return { path: source.path, rewritten: false, cleanup: async () => {} };
  const work = await mkdtemp(join(tmpDir, "ms-hypeman-src-"));
  try {
    const tree = join(work, "tree");
    await mkdir(tree);
    await untar({ file: source.path, cwd: tree, strict: true, preservePaths: false });
    // Removed first: a Dockerfile that is a symlink must not redirect the write.
    await rm(join(tree, "Dockerfile"), { force: true, recursive: true });
    await writeFile(join(tree, "Dockerfile"), dockerfile);
    const path = join(work, "source.tar.gz");
    await tarCreate({ gzip: true, cwd: tree, file: path, portable: true }, (await readdir(tree)).sort());
    await rm(tree, { recursive: true, force: true });
    return { path, rewritten: true, cleanup: () => rm(work, { recursive: true, force: true }) };
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

/** The text of the archive's root Dockerfile, or null when it has none. */
export async function rootDockerfile(archivePath: string): Promise<string | null> {
  let found: string | null = null;
  const pending: Promise<void>[] = [];
  await tarList({
    file: archivePath,
    onReadEntry(entry) {
      if (entry.type === "File" && entry.path.replace(/^(\.\/)+/, "") === "Dockerfile") {
        const chunks: Buffer[] = [];
        entry.on("data", (c: Buffer) => chunks.push(c));
        pending.push(new Promise((resolve) => entry.on("end", () => {
          found = Buffer.concat(chunks).toString("utf8");
          resolve();
        })));
      } else {
        entry.resume();
      }
    },
  });
  await Promise.all(pending);
  return found;
}
