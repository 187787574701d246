import type { Provider } from "../../provider.ts";
import type { DetectContext } from "../../context.ts";
import type { BuildPlan, UserMessage } from "../../../core/types.ts";
import { userError } from "../../../core/errors.ts";
import { nodePackageManager } from "./package-manager.ts";
import { nodeVersion } from "./node-version.ts";
import { NODE, endOfLifeWarning } from "../../runtime-versions.ts";
import { renderTemplate, startCmd, envLines, argLines, dependencyLayers } from "../../render-template.ts";
import { dockerignoreFor, planBase } from "../../plan-defaults.ts";
import { ENTRY_FILES, nodeStart } from "./node-start.ts";
import { nodeInstallFiles } from "./node-install-files.ts";
import { nodeRuntimeLayout } from "./node-runtime-layout.ts";
import { platformStart } from "../../platform-start.ts";
import { devServerOf } from "./framework-start.ts";
import { staticSiteHint } from "../../unknown-app.ts";
import { nativeBuildTools, plugAndPlay } from "./node-build-tools.ts";
import { findWorkspace } from "./workspace-root.ts";
import { workspacePlan } from "./workspace-plan.ts";
import { workspaceApps, workspaceRootError } from "./workspace-apps.ts";
import { workspaceInstallFiles } from "./workspace-install-files.ts";

const PORT = "3000";

export const nodeProvider: Provider = {
  name: "node",
  label: "Node",
  runtimeIds: /^(node|nodejs\d+)$/,
  lookedFor: "package.json (Node)",
  startCommandHelp: "add a `start` script to package.json, or set `start:` in .github/microship.yml",

  detect: (ctx) => ctx.exists("package.json"),

  async startEvidence(ctx) {
    const web = await ctx.procfileWeb();
    if (web && /\b(node|npm|yarn|pnpm|bun|npx)\b/.test(web)) return `Procfile web: ${web}`;
    const platform = await platformStart(ctx);
    if (platform && /\b(node|npm|yarn|pnpm|bun|npx)\b/.test(platform.command)) return `${platform.source}: ${platform.command}`;
    const pkg = await ctx.readJson("package.json").catch(() => null);
    for (const script of ["start:prod", "start"]) if (typeof pkg?.scripts?.[script] === "string") return `${script === "start" ? "scripts.start" : 'scripts["start:prod"]'} in ${ctx.rel("package.json")}`;
    return null;
  },

  async plan(ctx: DetectContext): Promise<BuildPlan> {
    const messages: UserMessage[] = [];
    const pkg = (await ctx.readJson("package.json")) ?? {};
    const ws = await findWorkspace(ctx);
    if (ws?.app) return workspacePlan(ctx, pkg, { ...ws, app: ws.app }, () => noStartError(ctx, pkg));
    const version = await nodeVersion(ctx, pkg);
    const eol = endOfLifeWarning(NODE, version.value, ctx.today);
    if (eol) messages.push({ level: "warning", text: eol });
    const pm = await nodePackageManager(ctx, pkg, messages);
    const buildCommand = typeof pkg.scripts?.build === "string" ? `${pm.run} build` : null;
    const start = await nodeStart(ctx, pkg, pm.run, pm.berry ? "yarn" : "npx --no");
    if (ws && !(start && !start.source.startsWith("main in") && !ENTRY_FILES.some((e) => start.source === ctx.rel(e)))) {
      // A workspace root with no start of its own (a `main` or an index.js is a library's) is no app: its packages are.
      const apps = await workspaceApps(ws);
      if (apps.length > 0) throw workspaceRootError(ws, apps);
    }
    if (!start) return noStartError(ctx, pkg);
    const pnp = pm.berry && (await plugAndPlay(ctx));
    if (pnp && !start.verbatim && /^node\s/.test(start.command)) {
      // Plug'n'Play leaves no node_modules: plain `node` can't resolve the dependencies.
      start.command = `yarn ${start.command}`;
      messages.push({ level: "info", text: "Yarn Plug'n'Play (no `nodeLinker: node-modules` in .yarnrc.yml): the app is started through `yarn node` so its dependencies resolve." });
    }
    const buildTools = await nativeBuildTools(ctx, pkg, messages);
    // A workspace root built whole still installs from every package's manifest.
    const cacheFiles = ws ? await workspaceInstallFiles(ws, pm) : await nodeInstallFiles(ctx, pkg, pm);
    const layout = await nodeRuntimeLayout(ctx, pkg, pm, start, buildCommand !== null, pnp, messages);
    const runtime = `nodejs${version.value}`;
    messages.unshift({ level: "info", text: `Node ${version.value} (from ${version.source}), ${pm.name} (from ${pm.evidence}); start: \`${start.command}\` (from ${start.source}).` });
    const dockerfile = renderTemplate("node", {
      runtime,
      base_image: ctx.baseImage(`node:${version.value}-slim`),
      build_tools: buildTools,
      build_args: argLines(ctx.config.build_args),
      env: envLines(ctx.config.env),
      setup: pm.setup ?? "",
      // Only a start command that goes through the package manager needs it in the image.
      runtime_setup: pm.runtimeSetup && start.command.split(/\s+/)[0] === pm.run.split(" ")[0] ? pm.runtimeSetup : "",
      dependencies: dependencyLayers(cacheFiles, pm.cacheDir, pm.install),
      build: buildCommand ? `RUN ${buildCommand}` : "",
      prune: layout.prune,
      runtime_env: layout.runtimeEnv + (start.env ?? ""),
      app_copy: layout.appCopy,
      port: PORT,
      start: startCmd(start.command),
    });
    return {
      ...planBase(ctx), runtime, provider: "node", version, packageManager: { name: pm.name, evidence: pm.evidence },
      installCommand: pm.install, buildCommand, startCommand: start.command, cacheFiles, dockerfile, dockerfilePath: null,
      dockerignore: await dockerignoreFor(ctx), messages,
    };
  },
};

async function noStartError(ctx: DetectContext, pkg: Record<string, any>): Promise<never> {
  const dev = typeof pkg.scripts?.start === "string" ? devServerOf(pkg.scripts.start) : null;
  const devNote = dev ? ` scripts.start runs the development server \`${dev}\`, which is never used as the production start.` : "";
  throw userError(`No start command found for this Node app: looked for a Procfile \`web:\` line, a start command in nixpacks.toml, railway.json, railway.toml or render.yaml, \`scripts["start:prod"]\` and \`scripts.start\` in package.json, a framework's server build, its \`main\` file, and ${ENTRY_FILES.join(", ")}.${devNote}`, {
    title: "No start command",
    location: { file: ctx.rel("package.json") },
    hint: `To fix it, ${nodeProvider.startCommandHelp}.${await staticSiteHint(ctx)}`,
  });
}
