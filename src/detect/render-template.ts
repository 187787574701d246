import { readFileSync } from "node:fs";
import { infraError } from "../core/errors.ts";

const TEMPLATES = new URL("../../templates/", import.meta.url);

/**
 * Fills `{{name}}` placeholders of a template in templates/. An unknown or unfilled placeholder
 * is a bug in microship, never silently left in a Dockerfile.
 */
export function renderTemplate(name: string, values: Record<string, string>): string {
  const text = readFileSync(new URL(`${name}.Dockerfile`, TEMPLATES), "utf8");
  const fill = (line: string) =>
    line.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => {
      if (!(key in values)) throw infraError(`template ${name}: no value for {{${key}}}`);
      return values[key]!;
    });
  // A line that is only a placeholder which renders empty disappears, blank line and all.
  return text
    .split("\n")
    .filter((line) => !/^\{\{\w+\}\}$/.test(line.trim()) || fill(line).trim() !== "")
    .map(fill)
    .join("\n");
}

/** Shell-quotes a command for `CMD ["sh", "-c", ...]` JSON form. */
export function jsonString(s: string): string {
  return JSON.stringify(s);
}

/**
 * The start command for `CMD ["sh", "-c", ...]`. A simple command is exec'd, so it is PID 1 and
 * gets the SIGTERM of `docker stop` instead of a shell that ignores it.
 */
export function startCmd(command: string): string {
  // Not for shell syntax, nor for `VAR=x cmd`: `exec VAR=x cmd` would try to run "VAR=x". What a
  // pair of single quotes holds is a plain word (`gunicorn 'pkg:create_app()'`).
  const unquoted = command.replace(/'[^']*'/g, "''");
  return JSON.stringify(/[;&|\n`<>()]|^\s*exec\s|^\s*[A-Za-z_]\w*=/.test(unquoted) ? command : `exec ${command}`);
}

/** `ARG` lines for the config's build_args only, so they reach the build stage's RUN steps; an ARG nobody passes would draw a buildah warning into every log. */
export function argLines(args: Record<string, string> | undefined): string {
  return Object.keys(args ?? {}).map((k) => `ARG ${k}`).join("\n");
}

export function envLines(env: Record<string, string> | undefined): string {
  return Object.entries(env ?? {}).map(([k, v]) => `ENV ${k}=${JSON.stringify(v)}`).join("\n");
}

/**
 * Dependency files first, then the install with a cache mount: the layer survives source edits.
 * A file keeps its place in the tree (`requirements/base.txt`, `.yarn/releases/yarn.cjs`), since
 * the manifest that names it resolves it there; a path ending in `/` is a directory copied whole.
 */
export function dependencyLayers(cacheFiles: string[], cacheDir: string, install: string | null): string {
  const copies = copyLines(cacheFiles);
  if (!install) return copies.join("\n");
  return [...copies, `RUN --mount=type=cache,target=${cacheDir} ${install}`].join("\n");
}

/** One COPY per destination directory, in the order the directories first appear. */
function copyLines(cacheFiles: string[]): string[] {
  const byDest = new Map<string, string[]>();
  for (const file of cacheFiles) {
    const dest = file.endsWith("/") ? `./${file}` : `./${file.slice(0, file.lastIndexOf("/") + 1)}`;
    byDest.set(dest, [...(byDest.get(dest) ?? []), file]);
  }
  return [...byDest].map(([dest, files]) => `COPY ${files.join(" ")} ${dest}`);
}
