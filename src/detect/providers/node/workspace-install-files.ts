import { inBuildContext } from "../../in-build-context.ts";
import { referencedPath } from "../../referenced-path.ts";
import { nodeInstallFiles } from "./node-install-files.ts";
import type { NodePm } from "./package-manager.ts";
import type { Workspace } from "./workspace-root.ts";

/**
 * The dependency layer of a workspace build, from the workspace root: the root's install files
 * (package.json, lockfile, the manager's config and patches), pnpm-workspace.yaml, and every
 * package's package.json in its place. All of them, not the app's closure only: npm ci and a
 * frozen pnpm or Yarn install check the lockfile against the whole workspace. A package's
 * directory that can't be written safely in a COPY line is a user error (referencedPath).
 */
export async function workspaceInstallFiles(ws: Workspace, pm: NodePm): Promise<string[]> {
  const root = await nodeInstallFiles(ws.ctx, ws.pkg, pm);
  const extra: string[] = [];
  if (await ws.ctx.exists("pnpm-workspace.yaml")) extra.push("pnpm-workspace.yaml");
  for (const m of ws.members) extra.push(referencedPath(`${m.dir}/package.json`, "package.json", ws.patterns.source));
  const kept = await inBuildContext(ws.ctx, extra);
  return [...root, ...kept.filter((f) => !root.includes(f))];
}
