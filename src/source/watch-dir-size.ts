import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

/**
 * Calls `onOver` once when the bytes under `dir` pass `maxBytes`, checking every `everyMs`.
 * git has no cap on what a fetch receives (receive.maxInputSize is for pushes), so the fetch
 * is watched from outside and killed at the cap. Returns the function that stops the watch.
 */
export function watchDirSize(dir: string, maxBytes: number, onOver: (bytes: number) => void, everyMs = 200): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const tick = async () => {
    const bytes = await sizeOf(dir).catch(() => 0);
    if (stopped) return;
    if (bytes > maxBytes) {
      stopped = true;
      onOver(bytes);
      return;
    }
    timer = setTimeout(tick, everyMs);
  };
  timer = setTimeout(tick, everyMs);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

/** Bytes of the files under `dir`, 0 when it is gone. */
export async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) total += await sizeOf(abs);
    else total += (await lstat(abs).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
