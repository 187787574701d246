/**
 * microship in a child process (test/helpers/app-child.ts, its builder scripted by env), so a
 * test can kill it with SIGKILL or measure its memory on its own. Resolves once it listens.
 */
import { spawn, type ChildProcess } from "node:child_process";

const CHILD = new URL("./app-child.ts", import.meta.url).pathname;

export interface AppChild {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<void>;
}

export function startAppChild(env: Record<string, string>): Promise<AppChild> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    };
    child.stdout!.on("data", (c) => {
      out += c;
      const m = /READY (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, output: () => out, stop });
    });
    child.stderr!.on("data", (c) => (out += c));
    child.once("exit", (code) => reject(new Error(`child exited ${code} before it was ready:\n${out}`)));
  });
}
