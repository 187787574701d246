import { posix } from "node:path";
import { DetectContext } from "../../context.ts";
import { userError } from "../../../core/errors.ts";
import { REPO_CONFIG_PATH } from "../../../core/repo-config.ts";
import { devServerOf, frameworkStart } from "./framework-start.ts";
import type { Workspace } from "./workspace-root.ts";

export interface WorkspaceApp {
  /** From the repository's top, as `root:` wants it. */
  root: string;
  name: string;
  why: string;
}

/**
 * The packages of a workspace that look deployable: a Procfile `web:` line, a `start:prod` or
 * a `start` that is no dev server, or a framework's production server. A library's `main` is
 * not a start: every package has one.
 */
export async function workspaceApps(ws: Workspace): Promise<WorkspaceApp[]> {
  const out: WorkspaceApp[] = [];
  for (const m of ws.members) {
    const root = posix.join(ws.ctx.root, m.dir);
    const ctx = new DetectContext(ws.ctx.repoDir, { ...ws.ctx.config, root }, ws.ctx.baseImageMirror, ws.ctx.today);
    const why = await startEvidence(ctx, m.pkg);
    if (why) out.push({ root, name: buildName(m.name ?? m.dir), why });
  }
  return out;
}

async function startEvidence(ctx: DetectContext, pkg: Record<string, any>): Promise<string | null> {
  if (await ctx.procfileWeb()) return "a Procfile web line";
  for (const script of ["start:prod", "start"]) {
    const s = pkg.scripts?.[script];
    if (typeof s === "string" && !devServerOf(s)) return `scripts["${script}"]`;
  }
  const fw = await frameworkStart(ctx, pkg, "npx --no");
  return fw ? fw.source.split(" (")[0]! : null;
}

/** `@acme/web` → `web`: a check run's name, letters, digits and dashes. */
function buildName(name: string): string {
  const last = name.split("/").pop()!.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  return last.slice(0, 36).replace(/-+$/, "") || "app";
}

/**
 * The error for a workspace root with no start of its own: it is no app, its packages are.
 * It lists them, and the config that builds them.
 */
export function workspaceRootError(ws: Workspace, apps: WorkspaceApp[]) {
  const where = ws.ctx.root === "." ? "The repository's root" : `\`${ws.ctx.root}\``;
  const shown = apps.slice(0, 12);
  const list = shown.map((a) => `\`${a.root}\` (${a.why})`).join(", ") + (apps.length > shown.length ? `, and ${apps.length - shown.length} more` : "");
  const names = uniqueNames(shown);
  const config = apps.length === 1
    ? `root: ${shown[0]!.root}`
    : ["builds:", ...shown.flatMap((a, i) => [`  - name: ${names[i]}`, `    root: ${a.root}`])].join("\n");
  return userError(`${where} is a workspace (${ws.patterns.source}) with no start command of its own; its ${apps.length === 1 ? "app is" : "apps are"} ${list}.`, {
    title: apps.length === 1 ? "Workspace root: set root" : "Workspace with several apps: set builds",
    location: { file: REPO_CONFIG_PATH },
    hint: `Say which to build in ${REPO_CONFIG_PATH}:\n\n\`\`\`yaml\n${config}\n\`\`\``,
  });
}

function uniqueNames(apps: WorkspaceApp[]): string[] {
  const seen = new Map<string, number>();
  return apps.map((a) => {
    const n = (seen.get(a.name) ?? 0) + 1;
    seen.set(a.name, n);
    return n === 1 ? a.name : `${a.name}-${n}`;
  });
}
