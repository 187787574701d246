import type { DetectContext } from "../../context.ts";
import type { BuildPlan, UserMessage } from "../../../core/types.ts";
import { userError } from "../../../core/errors.ts";
import { NODE, endOfLifeWarning } from "../../runtime-versions.ts";
import { renderTemplate, startCmd, envLines, argLines, dependencyLayers } from "../../render-template.ts";
import { dockerignoreFor, planBase } from "../../plan-defaults.ts";
import { nodePackageManager, type NodePm } from "./package-manager.ts";
import { nodeVersion } from "./node-version.ts";
import { nodeStart } from "./node-start.ts";
import { nativeBuildTools, plugAndPlay } from "./node-build-tools.ts";
import { dependencyClosure, filterName, workspaceBuild, workspaceInstall } from "./workspace-commands.ts";
import { workspaceInstallFiles } from "./workspace-install-files.ts";
import type { Workspace } from "./workspace-root.ts";
import type { WorkspaceMember } from "./workspace-members.ts";

const PORT = "3000";

/**
 * A package of a workspace, built from the workspace root: the root's lockfile, package manager
 * and every package's manifest in the dependency layer, an install and a build of the app and
 * the packages it needs only, and the runtime stage started in the app's own folder.
 * devDependencies stay: a prune at the root would act on the whole workspace.
 */
export async function workspacePlan(ctx: DetectContext, pkg: Record<string, any>, ws: Workspace & { app: WorkspaceMember }, noStart: () => Promise<never>): Promise<BuildPlan> {
  const messages: UserMessage[] = [];
  let version = await nodeVersion(ctx, pkg);
  if (version.source.startsWith("default")) version = await nodeVersion(ws.ctx, ws.pkg);
  const eol = endOfLifeWarning(NODE, version.value, ctx.today);
  if (eol) messages.push({ level: "warning", text: eol });
  const pm = await nodePackageManager(ws.ctx, ws.pkg, messages);
  const name = filterName(ws.app, ctx.rel("package.json"));
  const closure = dependencyClosure(ws.app, ws.members);
  const cacheFiles = await workspaceInstallFiles(ws, pm);
  const installCommand = workspaceInstall(pm, name, closure, typeof ws.pkg.name === "string" ? ws.pkg.name : null);
  const turbo = await ws.ctx.exists("turbo.json");
  const buildCommand = workspaceBuild(pm, name, closure, turbo);
  const pnp = pm.berry && (await plugAndPlay(ws.ctx));
  if (pnp) throw pnpUnsupported(ws);
  const start = (await nodeStart(ctx, pkg, pm.run, pm.berry ? "yarn" : "npx --no")) ?? (await noStart());
  const shownRoot = ws.ctx.root === "." ? "the repository's root" : `\`${ws.ctx.root}\``;
  const others = closure.filter((m) => m !== ws.app).map((m) => m.name ?? m.dir);
  messages.push({ level: "info", text: `Workspace: \`${ctx.root}\` is the package \`${name}\` of the ${pm.name} workspace at ${shownRoot} (${ws.patterns.source}, ${ws.members.length} packages), so it is built from there with the root's lockfile${others.length ? `, with the workspace packages it needs (${others.slice(0, 8).join(", ")}${others.length > 8 ? ", …" : ""})` : ""}, and started in its own folder. devDependencies stay in the image.` });
  if (ws.links.length) messages.push({ level: "warning", text: `Symlinked directories are never followed as workspace packages: ${ws.links.map((l) => `\`${l}\``).join(", ")}.`, file: ws.patterns.source });
  const buildTools = await nativeBuildTools(ctx, mergedDeps([ws.pkg, ...closure.map((m) => m.pkg)]), messages);
  const runtime = `nodejs${version.value}`;
  messages.unshift({ level: "info", text: `Node ${version.value} (from ${version.source}), ${pm.name} (from ${pm.evidence}); start: \`${start.command}\` (from ${start.source}).` });
  const dockerfile = renderTemplate("node", {
    runtime, base_image: ctx.baseImage(`node:${version.value}-slim`), build_tools: buildTools,
    build_args: argLines(ctx.config.build_args), env: envLines(ctx.config.env), setup: pinnedSetup(pm, ws.pkg),
    runtime_setup: pm.runtimeSetup && start.command.split(/\s+/)[0] === pm.run.split(" ")[0] ? pm.runtimeSetup : "",
    dependencies: dependencyLayers(cacheFiles, pm.cacheDir, installCommand),
    build: buildCommand ? `RUN ${buildCommand}` : "", prune: "", runtime_env: start.env ?? "",
    app_copy: `COPY --from=build --chown=node:node /app /app\nWORKDIR /app/${ws.app.dir}`,
    port: PORT, start: startCmd(start.command),
  });
  return {
    ...planBase(ctx), contextRoot: ws.ctx.root, runtime, provider: "node", version, packageManager: { name: pm.name, evidence: pm.evidence },
    installCommand, buildCommand, startCommand: start.command, cacheFiles, dockerfile, dockerfilePath: null,
    dockerignore: await dockerignoreFor(ws.ctx), messages,
  };
}

function mergedDeps(pkgs: Record<string, any>[]): Record<string, any> {
  const out: Record<string, any> = { dependencies: {} };
  for (const p of pkgs) for (const f of ["dependencies", "devDependencies", "optionalDependencies"]) Object.assign(out.dependencies, p[f] && typeof p[f] === "object" ? p[f] : {});
  return out;
}

/**
 * Corepack takes the manager's version from the nearest package.json, which in the app's folder
 * is the app's, with no `packageManager`: the pinned version is installed as the default, so the
 * start command runs the same manager as the build, with nothing to download.
 */
function pinnedSetup(pm: NodePm, rootPkg: Record<string, any>): string {
  const spec = typeof rootPkg.packageManager === "string" ? rootPkg.packageManager.trim() : "";
  if (!pm.setup || !/^[A-Za-z0-9@._+:-]{1,200}$/.test(spec) || spec.startsWith("bun@")) return pm.setup ?? "";
  return pm.setup.replace(/^RUN corepack enable$/m, `RUN corepack enable && corepack install -g ${spec}`);
}

function pnpUnsupported(ws: Workspace) {
  const file = ws.ctx.rel(".yarnrc.yml");
  return userError(`The Yarn workspace at ${ws.ctx.root === "." ? "the repository's root" : ws.ctx.root} uses Plug'n'Play, which microship doesn't build as a workspace yet.`, {
    title: "Yarn Plug'n'Play workspace",
    location: { file },
    hint: `Set \`nodeLinker: node-modules\` in ${file}, or add a Dockerfile to the app.`,
  });
}
