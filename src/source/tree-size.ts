import { spawn } from "node:child_process";
import { userError } from "../core/errors.ts";

export interface TreeCaps {
  maxBytes: number;
  maxFiles: number;
}

/**
 * Refuses a commit whose tree would expand past the caps, before a byte of it is checked out.
 * A git bomb stores one blob or tree many times over: 7 MiB on the server became 3.1 GiB on disk.
 * `git ls-tree -r -l -z` lists every file with its size; the listing is read as a stream and
 * git is killed at the first record past a cap, so even a listing of billions of entries costs
 * no more than the caps.
 */
export function checkTreeSize(dir: string, sha: string, caps: TreeCaps, env: Record<string, string>, signal: AbortSignal): Promise<{ files: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const git = spawn("git", ["ls-tree", "-r", "-l", "-z", "--full-tree", sha], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"], signal });
    let files = 0;
    let bytes = 0;
    let rest = "";
    let stderr = "";
    let refused: Error | null = null;
    const refuse = (what: string) => {
      refused ??= userError(`The commit expands to more than ${what}, so it is not checked out.`, {
        title: "Source too large",
        hint: "Keep build outputs, large assets and vendored trees out of the repository, or ask your operator to raise the checkout caps.",
      });
      git.kill("SIGKILL");
    };
    git.stdout.setEncoding("latin1");
    git.stdout.on("data", (chunk: string) => {
      if (refused) return;
      const records = (rest + chunk).split("\0");
      rest = records.pop()!;
      // A path with no NUL yet is still bounded: git's own path limit is 4 KiB, allow slack.
      if (rest.length > 64 * 1024) return refuse("one path of 64 KiB");
      for (const rec of records) {
        files++;
        // "<mode> <type> <object> <size>\t<path>"; a submodule's size is "-".
        const tab = rec.indexOf("\t");
        const size = Number.parseInt(rec.slice(0, tab).trim().split(" ").pop() ?? "", 10);
        if (Number.isFinite(size)) bytes += size;
        if (files > caps.maxFiles) return refuse(`${caps.maxFiles} files`);
        if (bytes > caps.maxBytes) return refuse(`${Math.round(caps.maxBytes / 1024 / 1024)} MiB`);
      }
    });
    git.stderr.on("data", (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString("utf8");
    });
    git.on("error", (err) => reject(refused ?? err));
    git.on("close", (code) => {
      if (refused) return reject(refused);
      if (code !== 0) return reject(new Error(`git ls-tree failed: ${stderr.trim() || `exit ${code}`}`));
      resolve({ files, bytes });
    });
  });
}
