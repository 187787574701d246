import { posix } from "node:path";
import { DetectContext } from "../../context.ts";
import { isMemberDir, memberGlobs, workspaceMembers, type WorkspaceMember } from "./workspace-members.ts";
import { workspacePatterns, type WorkspacePatterns } from "./workspace-patterns.ts";

export interface Workspace {
  /** The workspace root, read as an app directory of its own. */
  ctx: DetectContext;
  /** Its package.json ({} when it has none, as a pnpm workspace may). */
  pkg: Record<string, any>;
  patterns: WorkspacePatterns;
  members: WorkspaceMember[];
  /** Symlinked directories the patterns reach, never followed. */
  links: string[];
  /** The app's own package; null when the app directory is the workspace root itself. */
  app: WorkspaceMember | null;
}

// Deeper than any real app root; the walk up stops at the repository's top anyway.
const MAX_LEVELS = 32;

/**
 * The workspace the app belongs to: the app directory itself when it is a workspace root, else
 * the nearest directory above it, up to the repository's top, whose patterns name it. The
 * nearest root that names the app decides, as for npm and pnpm; one that doesn't means the app
 * is a project of its own, and is built alone.
 */
export async function findWorkspace(ctx: DetectContext): Promise<Workspace | null> {
  const root = posix.normalize(ctx.root).replace(/\/+$/, "");
  const own = await workspaceAt(ctx, root);
  if (own) return { ...own, ...(await walked(own.ctx, own.patterns)), app: null };
  const parts = root === "." ? [] : root.split("/");
  for (let up = 1; up <= Math.min(parts.length, MAX_LEVELS); up++) {
    const dir = parts.slice(0, parts.length - up).join("/") || ".";
    const found = await workspaceAt(ctx, dir);
    if (!found) continue;
    const appDir = parts.slice(parts.length - up).join("/");
    if (!isMemberDir(memberGlobs(found.patterns), appDir, found.patterns.source)) return null;
    const { members, links } = await walked(found.ctx, found.patterns);
    const app = members.find((m) => m.dir === appDir);
    return app ? { ...found, members, links, app } : null;
  }
  return null;
}

async function workspaceAt(ctx: DetectContext, dir: string): Promise<{ ctx: DetectContext; pkg: Record<string, any>; patterns: WorkspacePatterns } | null> {
  const ws = dir === ctx.root ? ctx : new DetectContext(ctx.repoDir, { ...ctx.config, root: dir }, ctx.baseImageMirror, ctx.today);
  const pkg = await ws.readJson("package.json");
  const patterns = await workspacePatterns(ws, pkg);
  return patterns ? { ctx: ws, pkg: pkg ?? {}, patterns } : null;
}

function walked(ws: DetectContext, patterns: WorkspacePatterns) {
  return workspaceMembers(ws, patterns);
}
