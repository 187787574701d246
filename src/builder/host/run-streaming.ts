import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { LineSplitter } from "../log-lines.ts";
import type { LogLine } from "../../core/builder.ts";

export interface StreamingResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface StreamingOptions {
  env: Record<string, string>;
  /** The command's output is spooled here (see below); the caller removes it. */
  spoolDir: string;
  cwd?: string;
  signal: AbortSignal;
  onLine: (line: LogLine) => void;
  killAfterMs?: number;
}

let spoolCount = 0;

/**
 * Runs a command in its own process group, streaming its output as clean lines. On abort the
 * whole group gets SIGTERM, then SIGKILL after `killAfterMs`: buildah's RUN steps are children
 * of buildah, and none may outlive a cancelled build.
 *
 * Output goes to files that we follow, not to pipes: buildah 1.28's chroot runtime exits as soon
 * as the RUN step does, dropping whatever its relay hadn't yet written to a pipe we were slow to
 * read (the tail of a 100k-line step, on a busy host). Writes to a file never wait on us.
 */
export async function runStreaming(command: string, args: string[], o: StreamingOptions): Promise<StreamingResult> {
  const n = ++spoolCount;
  const outPath = join(o.spoolDir, `stdout-${n}.log`);
  const errPath = join(o.spoolDir, `stderr-${n}.log`);
  const outFd = openSync(outPath, "w", 0o600);
  const errFd = openSync(errPath, "w", 0o600);
  let exited = false;
  const out = follow(outPath, new LineSplitter("stdout", o.onLine), () => exited);
  const err = follow(errPath, new LineSplitter("stderr", o.onLine), () => exited);
  const result = await new Promise<StreamingResult>((resolve, reject) => {
    const [file, argv] = groupDiesWithParent(command, args);
    const child = spawn(file, argv, { env: o.env, cwd: o.cwd, detached: true, stdio: ["ignore", outFd, errFd] });
    closeSync(outFd);
    closeSync(errFd);
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
    child.on("exit", (exitCode, signal) => {
      o.signal.removeEventListener("abort", onAbort);
      if (killTimer) clearTimeout(killTimer);
      // Whatever the group left behind goes too.
      if (o.signal.aborted) killGroup("SIGKILL");
      resolve({ exitCode, signal });
    });
  }).finally(() => {
    exited = true;
  });
  await Promise.all([out, err]);
  return result;
}

/** Reads a file as it grows until `done()` and nothing is left, feeding the splitter. */
async function follow(path: string, splitter: LineSplitter, done: () => boolean): Promise<void> {
  const fh = await open(path, "r");
  const buf = Buffer.alloc(256 * 1024);
  let pos = 0;
  try {
    for (;;) {
      const finished = done();
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        splitter.write(buf.subarray(0, bytesRead));
        continue;
      }
      // Only stop on a read that began after the process was gone: then nothing more can come.
      if (finished) break;
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    splitter.end();
    await fh.close();
  }
}

/**
 * When we are killed outright (SIGKILL, OOM) nobody is left to kill the group, and buildah on
 * SIGTERM alone leaves its RUN step's grandchildren running. So a shell leads the group: the
 * parent-death signal (setpriv, util-linux) reaches it, and it kills the whole group.
 */
function groupDiesWithParent(command: string, args: string[]): [string, string[]] {
  if (!existsSync("/usr/bin/setpriv")) return [command, args];
  return ["/usr/bin/setpriv", ["--pdeathsig", "TERM", "/bin/sh", "-c", 'trap "kill -KILL 0" TERM; "$@" & wait $!', "sh", command, ...args]];
}
