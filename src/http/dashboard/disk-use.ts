import { lstat, opendir, statfs } from "node:fs/promises";
import { join } from "node:path";

export interface PlaceUse {
  name: string;
  bytes: number;
  files: number;
  /** The walk stopped at its bound: the numbers are a floor. */
  partial: boolean;
  missing: boolean;
}

export interface DiskReport {
  places: PlaceUse[];
  /** The data directory's file system. */
  freeBytes: number | null;
  totalBytes: number | null;
  measuredAt: number;
}

export interface DiskUseOptions {
  dataDir: string;
  /** Named places to measure, as paths; each is walked without following a symlink. */
  places: { name: string; paths: string[] }[];
  /** Entries one measure visits in all (default 200,000). */
  maxEntries?: number;
  /** A measure is kept this long (default 5 min): a page view never walks the tree itself. */
  ttlMs?: number;
}

/**
 * What the caches and logs take on disk. The walk is bounded by a count of entries, runs at
 * most once per TTL, and a page shows the last result while a new one is measured.
 */
export class DiskUse {
  private readonly o: Required<DiskUseOptions>;
  private last: DiskReport | null = null;
  private running: Promise<DiskReport> | null = null;

  constructor(o: DiskUseOptions) {
    this.o = { maxEntries: 200_000, ttlMs: 5 * 60_000, ...o };
  }

  /** The latest measure; null before the first one ends (the caller waits at most `waitMs` for it). */
  async report(waitMs = 1500, now = Date.now()): Promise<DiskReport | null> {
    if (!this.running && (!this.last || now - this.last.measuredAt >= this.o.ttlMs)) {
      this.running = this.measure().then((r) => (this.last = r)).finally(() => (this.running = null));
    }
    if (this.last || !this.running) return this.last;
    const timeout = new Promise<null>((ok) => setTimeout(() => ok(null), waitMs).unref());
    return Promise.race([this.running.catch(() => null), timeout]);
  }

  private async measure(): Promise<DiskReport> {
    const budget = { left: this.o.maxEntries };
    const places: PlaceUse[] = [];
    for (const p of this.o.places) {
      const parts = await Promise.all(p.paths.map((path) => walkPlace(path, budget)));
      places.push({
        name: p.name,
        bytes: parts.reduce((n, u) => n + u.bytes, 0),
        files: parts.reduce((n, u) => n + u.files, 0),
        partial: parts.some((u) => u.partial),
        missing: parts.every((u) => u.missing),
      });
    }
    const fs = await statfs(this.o.dataDir).catch(() => null);
    return { places, freeBytes: fs ? fs.bavail * fs.bsize : null, totalBytes: fs ? fs.blocks * fs.bsize : null, measuredAt: Date.now() };
  }
}

async function walkPlace(path: string, budget: { left: number }): Promise<Omit<PlaceUse, "name">> {
  const use = { bytes: 0, files: 0, partial: false, missing: false };
  const top = await lstat(path).catch(() => null);
  if (!top) return { ...use, missing: true };
  const stack = [path];
  if (!top.isDirectory()) return { ...use, bytes: top.blocks * 512, files: 1 };
  while (stack.length > 0) {
    const dir = await opendir(stack.pop()!).catch(() => null);
    if (!dir) continue;
    for await (const entry of dir) {
      if (--budget.left < 0) return { ...use, partial: true };
      const full = join(dir.path, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (entry.isFile()) {
        const st = await lstat(full).catch(() => null);
        if (st) (use.bytes += st.blocks * 512, use.files++);
      }
    }
  }
  return use;
}
