import { readdir } from "node:fs/promises";
import type { DetectContext } from "../../context.ts";

export const ENTRY_FILES = ["main.py", "app.py", "run.py", "server.py", "src/main.py"];
// Where an ASGI or WSGI app object is looked for first: the entry files, and the usual layouts.
const FIXED = [...ENTRY_FILES, "app/main.py", "src/app.py", "asgi.py", "wsgi.py"];
// A package's modules that hold an app or its factory, in the order they are tried.
const IN_PACKAGE = ["main.py", "app.py", "__init__.py"];
const SKIP = new Set(["tests", "test", "venv", ".venv", "env", "node_modules", "migrations", "docs", "scripts"]);
/** Directories of the app's top level looked at; a repository with more is not guessed at. */
export const MAX_PACKAGES = 32;

/**
 * The files an app object is looked for in: the fixed ones, then `main.py`, `app.py` and
 * `__init__.py` of each top-level package (a directory with `__init__.py`, by name), so
 * `myapp/main.py` (`uvicorn myapp.main:app`) and a factory in `myapp/__init__.py` are found.
 */
export async function appFiles(ctx: DetectContext): Promise<string[]> {
  const out = [...FIXED];
  for (const pkg of await topLevelPackages(ctx)) out.push(...IN_PACKAGE.map((f) => `${pkg}/${f}`));
  return out;
}

/** The module a file is imported as: `pkg/__init__.py` is `pkg`, `app/main.py` is `app.main`. */
export function moduleOf(file: string): string {
  const path = file.endsWith("/__init__.py") ? file.slice(0, -"/__init__.py".length) : file.replace(/\.py$/, "");
  return path.replace(/\//g, ".");
}

async function topLevelPackages(ctx: DetectContext): Promise<string[]> {
  const entries = await readdir(ctx.appDir, { withFileTypes: true }).catch(() => []);
  const dirs = entries.filter((e) => e.isDirectory() && /^[A-Za-z_]\w*$/.test(e.name) && !SKIP.has(e.name)).map((e) => e.name).sort().slice(0, MAX_PACKAGES);
  const out: string[] = [];
  for (const d of dirs) if (await ctx.exists(`${d}/__init__.py`)) out.push(d);
  return out;
}

/** The top-level .py files, by name, at most `max`. */
export async function topLevelPythonFiles(ctx: DetectContext, max: number): Promise<string[]> {
  const entries = await readdir(ctx.appDir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith(".py")).map((e) => e.name).sort().slice(0, max);
}
