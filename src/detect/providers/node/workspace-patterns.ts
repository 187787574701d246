import { parse as parseYaml } from "yaml";
import type { DetectContext } from "../../context.ts";
import { userError } from "../../../core/errors.ts";

/** pnpm-workspace.yaml is a list of globs; past this it is no workspace file. */
export const WORKSPACE_FILE_MAX_BYTES = 256 * 1024;
export const MAX_PATTERNS = 64;
const MAX_PATTERN_LENGTH = 256;

export interface WorkspacePatterns {
  /** Globs of member directories, from the workspace root, without `./` or a trailing `/`. */
  include: string[];
  /** The `!` patterns, without the `!`. */
  exclude: string[];
  /** Where they were read, from the repository's top: `pnpm-workspace.yaml` or `package.json`. */
  source: string;
}

/**
 * The member globs of a workspace root: pnpm-workspace.yaml's `packages` (pnpm reads only that
 * file), else package.json's `workspaces` (npm, Yarn and bun), an array or `{ packages }`.
 * Null when the directory is no workspace root. The files are the repository's: a YAML alias
 * bomb, a nesting too deep to parse, too many or too long patterns, or one that climbs out of
 * the root is a user error naming the file, not a hang.
 */
export async function workspacePatterns(ws: DetectContext, pkg: Record<string, any> | null): Promise<WorkspacePatterns | null> {
  const yamlFile = ws.rel("pnpm-workspace.yaml");
  const text = await ws.readAtRepoRoot(yamlFile, WORKSPACE_FILE_MAX_BYTES);
  if (text !== null) {
    const doc = parseBounded(text, yamlFile);
    const list = doc && typeof doc === "object" && !Array.isArray(doc) ? (doc as Record<string, unknown>).packages : undefined;
    // pnpm 9+ makes a workspace of a pnpm-workspace.yaml with only settings; its only member is the root.
    return checked(list === undefined || list === null ? [] : list, yamlFile, "`packages`");
  }
  const field = pkg?.workspaces;
  if (field === undefined) return null;
  const list = field && typeof field === "object" && !Array.isArray(field) ? field.packages : field;
  return checked(list ?? [], ws.rel("package.json"), "`workspaces`");
}

function parseBounded(text: string, file: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 16, prettyErrors: false });
  } catch (err) {
    // A RangeError is a nesting deep enough to exhaust the stack: the file's fault too.
    throw userError(`${file} does not parse as YAML: ${String((err as Error).message).split("\n")[0]!.slice(0, 200)}`, {
      title: `Invalid ${file}`,
      location: { file },
      hint: `Make ${file} a plain YAML list of package globs under \`packages:\` (no anchors or aliases needed).`,
    });
  }
}

function checked(list: unknown, file: string, field: string): WorkspacePatterns {
  const fail = (why: string) =>
    userError(`${field} in ${file} ${why}.`, {
      title: "Unusable workspace patterns",
      location: { file },
      hint: `List at most ${MAX_PATTERNS} relative globs of at most ${MAX_PATTERN_LENGTH} characters inside the workspace, such as \`apps/*\` and \`packages/*\`.`,
    });
  if (!Array.isArray(list)) throw fail("is not a list of globs");
  if (list.length > MAX_PATTERNS) throw fail(`has ${list.length} patterns, more than ${MAX_PATTERNS}`);
  const out: WorkspacePatterns = { include: [], exclude: [], source: file };
  for (const item of list) {
    if (typeof item !== "string") throw fail("holds something other than a string");
    if (item.length > MAX_PATTERN_LENGTH) throw fail(`holds a pattern longer than ${MAX_PATTERN_LENGTH} characters`);
    // The root itself: always part of the workspace, never an app of it.
    if (item.trim() === "." || item.trim() === "./") continue;
    const negated = item.startsWith("!");
    const pattern = normalize(negated ? item.slice(1) : item);
    if (pattern === null) throw fail(`holds \`${item.slice(0, 80)}\`, which leaves the workspace or names nothing`);
    (negated ? out.exclude : out.include).push(pattern);
  }
  return out;
}

/** `./apps/*​/` → `apps/*`; null for an absolute pattern, one with `..`, or one with control characters. */
function normalize(pattern: string): string | null {
  let p = pattern.trim();
  while (p.startsWith("./")) p = p.slice(2);
  while (p.endsWith("/")) p = p.slice(0, -1);
  if (p === "" || p === "." || p.startsWith("/")) return null;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) < 32) return null;
  if (p.split("/").some((s) => s === ".." || s === "")) return null;
  return p;
}
