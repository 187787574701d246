import { spawn } from "node:child_process";
import { LineSplitter } from "../log-lines.ts";
import type { LogLine } from "../builder.ts";

export interface StreamingResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs a command in its own process group, streaming its output as clean lines. On abort the
 * whole group gets SIGTERM, then SIGKILL after `killAfterMs`: buildah's RUN steps are children
 * of buildah, and none may outlive a cancelled build.
 */
export function runStreaming(
  command: string,
  args: string[],
  o: { env: Record<string, string>; cwd?: string; signal: AbortSignal; onLine: (line: LogLine) => void; killAfterMs?: number },
): Promise<StreamingResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: o.env, cwd: o.cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const out = new LineSplitter("stdout", o.onLine);
    const err = new LineSplitter("stderr", o.onLine);
    child.stdout.on("data", (c: Buffer) => out.write(c));
    child.stderr.on("data", (c: Buffer) => err.write(c));
    let killTimer: NodeJS.Timeout | null = null;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const onAbort = () => {
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), o.killAfterMs ?? 3_000);
    };
    if (o.signal.aborted) onAbort();
    else o.signal.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      o.signal.removeEventListener("abort", onAbort);
      reject(e);
    });
    child.on("close", (exitCode, signal) => {
      o.signal.removeEventListener("abort", onAbort);
      if (killTimer) clearTimeout(killTimer);
      // Whatever the group left behind goes too.
      if (o.signal.aborted) killGroup("SIGKILL");
      out.end();
      err.end();
      resolve({ exitCode, signal });
    });
  });
}
