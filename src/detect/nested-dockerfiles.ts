import { readdir } from "node:fs/promises";
import { join, posix } from "node:path";
import type { DetectContext } from "./context.ts";

/** How deep below the app root Dockerfiles are looked for, how many directories are read, how many are told. */
export const DOCKERFILE_SEARCH = { depth: 3, dirs: 256, found: 4 };
const PLAIN_NAME = /^[A-Za-z0-9._-]{1,100}$/;
const SKIP = new Set(["node_modules", "vendor", "__pycache__", "venv", "test", "tests", "fixtures", "examples"]);
const DOCKERFILE_MAX_BYTES = 64 * 1024;

export interface NestedDockerfile {
  /** From the app root, as `dockerfile:` takes it. */
  path: string;
  /** The config that builds it: `root: backend`, or `dockerfile:` and `context:` when it copies from the top. */
  config: string;
}

/**
 * Dockerfiles in the app's subdirectories, breadth first, by name only (no symlink is followed:
 * a link is not a directory to readdir's file types), within DOCKERFILE_SEARCH, so a tree of ten
 * thousand directories costs at most `dirs` reads. Each comes with the config that would build it.
 */
export async function nestedDockerfiles(ctx: DetectContext): Promise<NestedDockerfile[]> {
  const out: NestedDockerfile[] = [];
  let queue: string[] = [""];
  let read = 0;
  for (let depth = 0; depth <= DOCKERFILE_SEARCH.depth && queue.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of queue) {
      if (read++ >= DOCKERFILE_SEARCH.dirs) return out;
      const entries = await readdir(join(ctx.appDir, dir), { withFileTypes: true }).catch(() => []);
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        if (!PLAIN_NAME.test(e.name)) continue;
        const rel = dir ? `${dir}/${e.name}` : e.name;
        if (e.isDirectory() && !e.name.startsWith(".") && !SKIP.has(e.name)) next.push(rel);
        else if (dir && e.isFile() && e.name === "Dockerfile") out.push({ path: rel, config: await configFor(ctx, dir, rel) });
        if (out.length >= DOCKERFILE_SEARCH.found) return out;
      }
    }
    queue = next;
  }
  return out;
}

/**
 * A Dockerfile whose COPY or ADD names files by its own directory (`COPY backend/requirements.txt`)
 * expects the top as context; any other is an app of its own in that directory.
 */
async function configFor(ctx: DetectContext, dir: string, path: string): Promise<string> {
  const text = await ctx.read(path).catch(() => null);
  const fromTop = text !== null && text.length <= DOCKERFILE_MAX_BYTES && copiesFrom(text, `${dir}/`);
  const appRoot = ctx.rel(dir);
  if (!fromTop) return `root: ${appRoot}`;
  return `dockerfile: ${path}` + (ctx.root === "." ? " with context: ." : ` with context: ${posix.normalize(ctx.root)}`);
}

/** Whether some COPY or ADD (not `--from` a stage) has a source under `prefix`. Words, no regex over the file. */
function copiesFrom(text: string, prefix: string): boolean {
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    const op = words[0]?.toUpperCase();
    if ((op !== "COPY" && op !== "ADD") || words.some((w) => w.startsWith("--from"))) continue;
    const args = words.slice(1).filter((w) => !w.startsWith("--"));
    if (args.slice(0, -1).some((w) => w.replace(/^\.\//, "").startsWith(prefix))) return true;
  }
  return false;
}
