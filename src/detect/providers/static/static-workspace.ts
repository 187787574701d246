import type { DetectContext } from "../../context.ts";
import type { UserMessage } from "../../../core/types.ts";
import { nodePackageManager, type NodePm } from "../node/package-manager.ts";
import { nodeVersion } from "../node/node-version.ts";
import { dependencyClosure, filterName, workspaceBuild, workspaceInstall } from "../node/workspace-commands.ts";
import { workspaceInstallFiles } from "../node/workspace-install-files.ts";
import { findWorkspace } from "../node/workspace-root.ts";

/** How a site that is a package of a JS workspace is built: from the workspace root, as a Node app of it is. */
export interface WorkspaceSite {
  contextRoot: string;
  /** The workspace root, read as an app directory (its .dockerignore is the build's). */
  rootCtx: DetectContext;
  version: Awaited<ReturnType<typeof nodeVersion>>;
  pm: NodePm;
  cacheFiles: string[];
  install: string;
  build: string;
  /** The site's folder inside the build stage's /app (the workspace root). */
  appDir: string;
}

/**
 * A SPA inside an npm, Yarn, pnpm or bun workspace installs `workspace:` packages, so it can't be
 * built from its own folder: the workspace root's lockfile and manager install the site and the
 * packages it needs, the same filters as for a Node app build it, and Caddy takes its output from
 * the site's folder. Null when the site is no workspace's package.
 */
export async function workspaceSite(ctx: DetectContext, pkg: Record<string, any>, messages: UserMessage[]): Promise<WorkspaceSite | null> {
  const ws = await findWorkspace(ctx);
  if (!ws?.app) return null;
  let version = await nodeVersion(ctx, pkg);
  if (version.source.startsWith("default")) version = await nodeVersion(ws.ctx, ws.pkg);
  const pm = await nodePackageManager(ws.ctx, ws.pkg, messages);
  const name = filterName(ws.app, ctx.rel("package.json"));
  const closure = dependencyClosure(ws.app, ws.members);
  const build = workspaceBuild(pm, name, closure, await ws.ctx.exists("turbo.json")) ?? `${pm.run} build`;
  messages.push({ level: "info", text: `Workspace: \`${ctx.root}\` is the package \`${name}\` of the ${pm.name} workspace at ${ws.ctx.root === "." ? "the repository's root" : `\`${ws.ctx.root}\``} (${ws.patterns.source}), so the site is built from there with the root's lockfile.` });
  return {
    contextRoot: ws.ctx.root, rootCtx: ws.ctx, version, pm, cacheFiles: await workspaceInstallFiles(ws, pm),
    install: workspaceInstall(pm, name, closure, typeof ws.pkg.name === "string" ? ws.pkg.name : null), build, appDir: ws.app.dir,
  };
}
