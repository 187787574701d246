import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A lock between processes: test files run in separate processes and may start at once, and
 * two of them must not build the same cached artifact twice. `mkdir` is atomic; the owner's pid
 * inside lets a later process break the lock of one that died.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, o: { timeoutMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 20 * 60_000);
  for (;;) {
    try {
      mkdirSync(path);
      writeFileSync(join(path, "pid"), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (ownerIsGone(path)) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${path}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

function ownerIsGone(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(path, "pid"), "utf8"));
  } catch {
    // Just created and the pid not written yet, or gone: look again shortly.
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
