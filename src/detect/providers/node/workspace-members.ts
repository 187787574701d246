import { lstat, opendir, realpath } from "node:fs/promises";
import { join, posix } from "node:path";
import type { DetectContext } from "../../context.ts";
import { userError } from "../../../core/errors.ts";
import { compileGlob, GlobBudget, GlobCostError, GlobSyntaxError, type Glob } from "../../../source/compile-glob.ts";
import { resolveBeneath } from "../../../source/resolve-beneath.ts";
import type { WorkspacePatterns } from "./workspace-patterns.ts";

export interface WorkspaceMember {
  /** The member's directory from the workspace root. */
  dir: string;
  name: string | null;
  pkg: Record<string, any>;
}

/** How far a walk of hostile trees goes before it is the repository's fault. */
export interface WalkLimits {
  /** Directory levels below the workspace root (a `**` goes no deeper). */
  depth: number;
  /** Directories listed. */
  dirs: number;
  /** Directory entries seen. */
  entries: number;
  members: number;
}
export const WALK_LIMITS: WalkLimits = { depth: 8, dirs: 4096, entries: 50_000, members: 256 };
const MANIFEST_MAX_BYTES = 1024 * 1024;
// No directory name holds it, so `pattern/\x01` matches `dir/\x01` only when the pattern matches
// `dir` itself, not a parent of it, which is all the .dockerignore matcher answers.
const END = "/\u0001";
const GLOB_CHARS = ["*", "?", "[", "\\"];

export interface Members {
  members: WorkspaceMember[];
  /** Symlinked directories the patterns reach, never followed (at most 8 named). */
  links: string[];
}

/**
 * The directories the patterns name that hold a package.json, found by walking the real tree
 * from each pattern's literal head: never through a symlink (one could lead out of the
 * checkout, or loop), never into node_modules or a dot directory, within fixed limits on depth,
 * directories, entries and members; past a limit the workspace is refused, not half-read,
 * because an install from half the manifests would fail in a stranger way.
 */
export function memberGlobs(patterns: WorkspacePatterns, budget = new GlobBudget()): { include: Glob[]; exclude: Glob[] } {
  return { include: patterns.include.map((p) => compile(p, budget, patterns.source)), exclude: patterns.exclude.map((p) => compile(p, budget, patterns.source)) };
}

/** Whether a directory (from the workspace root) is one the patterns name. */
export function isMemberDir(globs: { include: Glob[]; exclude: Glob[] }, dir: string, source: string): boolean {
  return globs.include.some((g) => matches(g, dir, source)) && !globs.exclude.some((g) => matches(g, dir, source));
}

export async function workspaceMembers(ws: DetectContext, patterns: WorkspacePatterns, limits: WalkLimits = WALK_LIMITS): Promise<Members> {
  const budget = new GlobBudget();
  const excluded = patterns.exclude.map((p) => compile(p, budget, patterns.source));
  const walk: Walk = { ws, real: await realpath(ws.repoDir), limits, dirs: 0, entries: 0, found: new Map(), links: [], source: patterns.source };
  for (const pattern of patterns.include) {
    const glob = compile(pattern, budget, patterns.source);
    const segments = pattern.split("/");
    const head = segments.slice(0, segmentsBeforeGlob(segments));
    const depth = pattern.includes("**") ? limits.depth : segments.length;
    await walkPattern(walk, glob, head.join("/"), head.length, Math.min(depth, limits.depth), excluded);
  }
  const members: WorkspaceMember[] = [];
  for (const dir of [...walk.found.keys()].sort()) members.push(await readMember(ws, dir));
  return { members, links: walk.links };
}

interface Walk {
  ws: DetectContext;
  real: string;
  limits: WalkLimits;
  dirs: number;
  entries: number;
  found: Map<string, true>;
  links: string[];
  source: string;
}

async function walkPattern(w: Walk, glob: Glob, head: string, headDepth: number, maxDepth: number, excluded: Glob[]): Promise<void> {
  const start = await resolveBeneath(w.real, posix.join(w.ws.root, head));
  if (start.kind !== "inside") return;
  if (start.viaLink) return noteLink(w, head);
  let level: { rel: string; abs: string }[] = [{ rel: head, abs: start.path }];
  for (let depth = headDepth; level.length > 0; depth++) {
    const next: { rel: string; abs: string }[] = [];
    for (const { rel, abs } of level) {
      if (rel !== "" && matches(glob, rel, w.source) && !excluded.some((e) => matches(e, rel, w.source))) await consider(w, rel, abs);
      if (depth < maxDepth) next.push(...(await subdirs(w, rel, abs)));
    }
    level = next;
  }
}

/** A directory with a package.json of its own is a member. */
async function consider(w: Walk, rel: string, abs: string): Promise<void> {
  if (w.found.has(rel)) return;
  // `abs` is a real directory reached through no link, so one lstat tells a plain file; only a
  // linked package.json needs resolving, and one leading out of the checkout makes no member.
  const st = await lstat(join(abs, "package.json")).catch(() => null);
  if (!st || (!st.isFile() && !st.isSymbolicLink())) return;
  if (st.isSymbolicLink() && (await resolveBeneath(w.real, posix.join(posix.relative(w.real, abs) || ".", "package.json"))).kind !== "inside") return;
  if (w.found.size >= w.limits.members) throw tooLarge(w, `more than ${w.limits.members} packages`);
  w.found.set(rel, true);
}

async function subdirs(w: Walk, rel: string, abs: string): Promise<{ rel: string; abs: string }[]> {
  if (++w.dirs > w.limits.dirs) throw tooLarge(w, `more than ${w.limits.dirs} directories to look through`);
  const out: { rel: string; abs: string }[] = [];
  const dir = await opendir(abs).catch(() => null);
  if (!dir) return out;
  try {
    for await (const d of dir) {
      if (++w.entries > w.limits.entries) throw tooLarge(w, `more than ${w.limits.entries} directory entries to look through`);
      if (d.name === "node_modules" || d.name.startsWith(".")) continue;
      const child = rel === "" ? d.name : `${rel}/${d.name}`;
      if (d.isSymbolicLink()) noteLink(w, child);
      else if (d.isDirectory()) out.push({ rel: child, abs: join(abs, d.name) });
    }
  } finally {
    await dir.close().catch(() => {});
  }
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

function noteLink(w: Walk, rel: string): void {
  if (w.links.length < 8 && !w.links.includes(rel)) w.links.push(rel);
}

async function readMember(ws: DetectContext, dir: string): Promise<WorkspaceMember> {
  const file = posix.join(ws.root, dir, "package.json");
  const text = (await ws.readAtRepoRoot(file, MANIFEST_MAX_BYTES)) ?? "{}";
  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch (err) {
    throw userError(`${file} is not valid JSON: ${(err as Error).message}`, { title: `Invalid ${file}`, location: { file }, hint: `Fix the syntax of ${file}.` });
  }
  const obj = pkg && typeof pkg === "object" && !Array.isArray(pkg) ? (pkg as Record<string, any>) : {};
  return { dir, name: typeof obj.name === "string" ? obj.name : null, pkg: obj };
}

function segmentsBeforeGlob(segments: string[]): number {
  const at = segments.findIndex((s) => GLOB_CHARS.some((c) => s.includes(c)));
  return at < 0 ? segments.length : at;
}

function compile(pattern: string, budget: GlobBudget, source: string): Glob {
  try {
    return compileGlob(pattern + END, budget);
  } catch (err) {
    if (err instanceof GlobSyntaxError) throw userError(`${source}: the workspace pattern \`${pattern.slice(0, 80)}\` is not a glob microship can read: ${err.message}`, { title: "Unusable workspace patterns", location: { file: source }, hint: "Use plain globs such as `apps/*` or `packages/**`." });
    throw err;
  }
}

function matches(glob: Glob, rel: string, source: string): boolean {
  try {
    return glob.matchesOrParent(rel + END);
  } catch (err) {
    if (err instanceof GlobCostError) throw userError(`${source}: a workspace pattern costs too much to match against \`${rel.slice(0, 80)}\`.`, { title: "Unusable workspace patterns", location: { file: source }, hint: "Use plain globs such as `apps/*` or `packages/**`." });
    throw err;
  }
}

function tooLarge(w: Walk, what: string) {
  return userError(`The workspace patterns of ${w.source} reach ${what}, so microship won't read the workspace (limits: ${w.limits.depth} levels, ${w.limits.dirs} directories, ${w.limits.members} packages).`, {
    title: "Workspace too large",
    location: { file: w.source },
    hint: "Narrow the patterns to the directories that hold packages (`apps/*`, `packages/*` rather than `**`), or keep generated directories out of them.",
  });
}
