import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A lock between processes sharing a data dir (two microship processes, or a test and the CLI),
 * held while one of them builds the VM image. mkdir is atomic; a lock whose owner died is taken over.
 */
export async function withDirLock<T>(path: string, fn: () => Promise<T>, o: { pollMs?: number } = {}): Promise<T> {
  while (!(await tryDirLock(path))) await sleep(o.pollMs ?? 1_000);
  try {
    return await fn();
  } finally {
    await rm(path, { recursive: true, force: true });
  }
}

/** Takes the lock if it is free or its owner died; false at once if a live process holds it. */
export async function tryDirLock(path: string): Promise<boolean> {
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(join(path, "pid"), String(process.pid));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (await ownerAlive(path)) return false;
      await rm(path, { recursive: true, force: true });
    }
  }
}

async function ownerAlive(path: string): Promise<boolean> {
  const pid = Number(await readFile(join(path, "pid"), "utf8").catch(() => ""));
  // A lock dir without a pid yet is being created right now.
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
