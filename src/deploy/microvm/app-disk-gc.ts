import { randomBytes } from "node:crypto";
import { lstatSync, opendirSync, renameSync } from "node:fs";
import { opendir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { OpLog } from "../../core/ports.ts";

const HEX64 = /^[a-f0-9]{64}$/;
// What a killed ensureAppDisk leaves (app-disk.ts): its work dir `{hex}.tmp-{pid}-{8 hex}` (a half
// pulled layout, an unpacked rootfs, a half-made ext4, the registry auth file) and its lock dir.
const LEFTOVER = /^[a-f0-9]{64}\.(tmp-[0-9]{1,10}-[a-f0-9]{8}|lock)$/;
const MAX_ENTRIES = 10_000;
const hexOf = (digest: string) => digest.split(":").pop() ?? "";

/**
 * Removes app disks (app-disk.ts: one dir per digest) that no VM record uses any more. A deploy
 * holds its digest from before ensureAppDisk until its record exists, and a disk is checked and
 * renamed aside in one synchronous step, so a deploy either sees the whole disk (and keeps it) or
 * none (and makes it again). Only 64-hex names are touched; a symlink is unlinked, not followed.
 */
export class AppDiskCollector {
  private readonly held = new Map<string, number>();
  private running: Promise<number> | null = null;
  private again = false;

  private readonly dir: string;
  private readonly log?: OpLog;

  constructor(dir: string, log?: OpLog) {
    this.dir = dir;
    this.log = log;
  }

  /** Keeps the digest's disk until the returned function is called. */
  hold(digest: string): () => void {
    const hex = hexOf(digest);
    this.held.set(hex, (this.held.get(hex) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.held.get(hex) ?? 1) - 1;
      if (n > 0) this.held.set(hex, n);
      else this.held.delete(hex);
    };
  }

  /**
   * At start, with the state dir's lock held (so no conversion can be running on these disks),
   * sets aside what killed conversions left; the next pass removes it. Synchronous, so it is done
   * before any deploy of this process can make names like these. How many were set aside.
   */
  setAsideLeftovers(): number {
    let dir;
    try {
      dir = opendirSync(this.dir);
    } catch {
      return 0;
    }
    let n = 0;
    try {
      for (let seen = 0, ent = dir.readSync(); ent && seen < MAX_ENTRIES; ent = dir.readSync(), seen++) {
        if (!LEFTOVER.test(ent.name)) continue;
        // rename() moves a symlink itself, and the pass's rm() unlinks it: its target is never reached.
        renameSync(join(this.dir, ent.name), join(this.dir, `.gc-${ent.name.slice(0, 12)}-${randomBytes(4).toString("hex")}`));
        n++;
      }
    } finally {
      dir.closeSync();
    }
    if (n > 0) this.log?.info({ dir: this.dir, count: n }, "removing what killed image-to-disk conversions left");
    return n;
  }

  /** One pass at a time; a call during a pass gets one more pass after it. How many disks went. */
  collect(inUse: () => Iterable<string>): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = async (): Promise<number> => {
      let n = 0;
      do {
        this.again = false;
        n += await this.pass(inUse);
      } while (this.again);
      return n;
    };
    this.running = run().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(inUse: () => Iterable<string>): Promise<number> {
    const dir = await opendir(this.dir).catch(() => null);
    if (!dir) return 0;
    let removed = 0;
    let seen = 0;
    for await (const ent of dir) {
      if (++seen > MAX_ENTRIES) break;
      if (ent.name.startsWith(".gc-")) {
        await rm(join(this.dir, ent.name), { recursive: true, force: true });
        continue;
      }
      if (!HEX64.test(ent.name)) continue;
      const path = join(this.dir, ent.name);
      const used = new Set([...inUse()].map(hexOf));
      // From the check to the rename nothing else runs: a deploy starting now finds no disk.
      if (used.has(ent.name) || this.held.has(ent.name)) continue;
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      if (!st.isDirectory()) {
        await unlink(path).catch(() => undefined);
        continue;
      }
      const aside = join(this.dir, `.gc-${ent.name.slice(0, 12)}-${randomBytes(4).toString("hex")}`);
      renameSync(path, aside);
      await rm(aside, { recursive: true, force: true });
      removed++;
      this.log?.info({ digest: `sha256:${ent.name}` }, "removed an app disk no deployment uses");
    }
    return removed;
  }
}
