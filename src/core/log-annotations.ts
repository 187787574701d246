import { lstatSync } from "node:fs";
import { join, normalize } from "node:path";
import type { LogLine } from "./builder.ts";
import type { UserMessage } from "./types.ts";

// `/app/src/build.js:12`, `File "/app/main.py", line 7`, `src/x.ts(3,5)`: the shapes compilers,
// stack traces and interpreters use to name the line that broke.
const PATTERNS: RegExp[] = [
  /File "(?:\/app\/)?([^"]+)", line (\d+)/,
  /(?:^|[\s(])(?:\/app\/|\.\/)?((?:[\w.-]+\/)*[\w.-]+\.(?:js|mjs|cjs|ts|tsx|jsx|py|json|toml|ya?ml|go|rb|rs|java))[:(](\d+)/,
];

/**
 * File and line references in a failed build's log that point at files of the app, newest
 * first, as messages the reporter turns into annotations. References to files outside the app
 * (node_modules, the runtime's own) are dropped.
 */
export function annotateFromLog(lines: LogLine[], appDir: string, appRoot: string, max = 10): UserMessage[] {
  const found = new Map<string, UserMessage>();
  for (const line of [...lines].reverse()) {
    if (found.size >= max) break;
    for (const re of PATTERNS) {
      const m = re.exec(line.text);
      if (!m) continue;
      const file = normalize(m[1]!).replace(/^\/+/, "");
      if (file.startsWith("..") || file.includes("node_modules/") || file.startsWith("usr/") || !plainFileIn(appDir, file)) continue;
      const repoPath = appRoot === "." ? file : `${appRoot.replace(/\/+$/, "")}/${file}`;
      const key = `${repoPath}:${m[2]}`;
      if (!found.has(key)) found.set(key, { level: "error", text: line.text.trim().slice(0, 500), file: repoPath, line: Number(m[2]) });
      break;
    }
  }
  return [...found.values()];
}

/**
 * Whether `file` is a regular file under `dir` reached without any symlink. The name comes from
 * build output, which is hostile: following a link would tell whether some host file exists.
 */
function plainFileIn(dir: string, file: string): boolean {
  let at = dir;
  const parts = file.split("/").filter((p) => p !== "" && p !== ".");
  for (const [i, part] of parts.entries()) {
    if (part === "..") return false;
    at = join(at, part);
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) return false;
    if (i === parts.length - 1 ? !st.isFile() : !st.isDirectory()) return false;
  }
  return parts.length > 0;
}
