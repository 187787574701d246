import { createHash } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { scratchDisk } from "./disks.ts";
import { tryDirLock } from "./dir-lock.ts";

export type CacheUse = "reused" | "empty" | "busy" | "reset" | "full";

export interface LayerCacheLease {
  /** What this build starts from, for the user's log. */
  use: CacheUse;
  /** Keep the build's scratch disk as the scope's cache: only after the guest reported and unmounted it. */
  keep(): Promise<void>;
  release(): Promise<void>;
}

/**
 * One buildah storage disk per cache scope, kept between microVM builds so that a rebuild's
 * unchanged steps are "Using cache" instead of running again. A fork PR's scope is its own
 * (core/stages/build.ts), so it never reads or writes the base repository's cache.
 *
 * A disk is used by one build at a time: another build of the same scope starts empty rather
 * than wait. A VM that ended without reporting may have left it half-written, so it is kept only
 * when the caller says so; a disk past FULL_SHARE of its size starts over before it runs out.
 */
export const FULL_SHARE = 0.7;
// A scope nobody built in this long (a merged PR's, most often) gives its disk space back.
const UNUSED_MS = 7 * 24 * 3600 * 1000;

export async function leaseLayerCache(o: { dir: string; scope: string; noCache: boolean; scratch: string; sizeMiB: number }): Promise<LayerCacheLease> {
  await mkdir(o.dir, { recursive: true });
  await pruneUnused(o.dir, Date.now() - UNUSED_MS);
  const name = createHash("sha256").update(o.scope).digest("hex").slice(0, 24);
  const disk = join(o.dir, `${name}.ext4`);
  const lock = join(o.dir, `${name}.lock`);
  if (!(await tryDirLock(lock))) {
    await scratchDisk(o.scratch, o.sizeMiB);
    return { use: "busy", keep: async () => undefined, release: async () => undefined };
  }
  const release = () => rm(lock, { recursive: true, force: true });
  let use: CacheUse = "empty";
  try {
    const held = await stat(disk).catch(() => null);
    if (held && o.noCache) use = "reset";
    else if (held && held.blocks * 512 > o.sizeMiB * 1024 * 1024 * FULL_SHARE) use = "full";
    else if (held) use = "reused";
    // Another process may prune a week-old disk between the stat and here.
    if (use === "reused" && !(await rename(disk, o.scratch).then(() => true, () => false))) use = "empty";
    if (use !== "reused") {
      await rm(disk, { force: true });
      await scratchDisk(o.scratch, o.sizeMiB);
    }
  } catch (err) {
    await release();
    throw err;
  }
  return {
    use,
    keep: () => rename(o.scratch, disk),
    release,
  };
}

async function pruneUnused(dir: string, before: number): Promise<void> {
  for (const f of await readdir(dir)) {
    if (!f.endsWith(".ext4")) continue;
    const st = await stat(join(dir, f)).catch(() => null);
    // A disk in use is in a build's work dir, not here, so whatever is here is idle.
    if (st && st.mtimeMs < before) await rm(join(dir, f), { force: true });
  }
}
