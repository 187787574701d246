import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";

/**
 * Probot's setup flow writes the app's credentials to `.env` in the working directory and says
 * to start again; nothing else reads that file (npm doesn't), so the next start reads it here,
 * into `env` before it is checked. A variable the environment sets (non-empty) wins over the
 * file's. No file: nothing changes.
 */
export function applyDotEnv(env: Record<string, string | undefined> = process.env, path = join(process.cwd(), ".env")): void {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] === undefined || env[name] === "") env[name] = value;
  }
}
