import { spawn } from "node:child_process";

/** More than the list shows of it (core/commit-subject.ts cuts to 200 characters): the rest is never read. */
const MAX_BYTES = 4096;
const TIME_MS = 10_000;

/**
 * The checked-out commit's message, up to its first line break or MAX_BYTES, read from the local
 * objects (no token); git is killed once that much arrived, so a huge message costs no more.
 * Null when git could not say: a build never fails for want of its message.
 */
export function readSubject(dir: string, sha: string, env: Record<string, string>, signal: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => {
    const git = spawn("git", ["log", "-1", "--no-show-signature", "--format=%B", sha, "--"], { cwd: dir, env, stdio: ["ignore", "pipe", "ignore"], signal: AbortSignal.any([signal, AbortSignal.timeout(TIME_MS)]) });
    const chunks: Buffer[] = [];
    let size = 0;
    git.stdout.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_BYTES || chunk.includes(10)) git.kill("SIGKILL");
    });
    git.on("error", () => resolve(null));
    git.on("close", (code, sig) => {
      const text = utf8Prefix(Buffer.concat(chunks), MAX_BYTES);
      // Killed on purpose once the first line or the cap arrived; otherwise only a clean exit counts.
      resolve(code === 0 || (sig === "SIGKILL" && size > 0 && !signal.aborted) ? text.split("\n", 1)[0]! : null);
    });
  });
}

/** At most `max` bytes of the text, cut before a character rather than through one. */
function utf8Prefix(buf: Buffer, max: number): string {
  let end = Math.min(buf.length, max);
  // A byte 10xxxxxx continues a character: the cut goes back to where that character starts.
  if (end < buf.length) while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString("utf8");
}
