import type { Provider } from "../../provider.ts";
import type { DetectContext } from "../../context.ts";
import type { BuildPlan, UserMessage } from "../../../core/types.ts";
import { userError } from "../../../core/errors.ts";
import { renderTemplate, envLines, argLines, dependencyLayers } from "../../render-template.ts";
import { dockerignoreFor, planBase } from "../../plan-defaults.ts";
import { NODE, endOfLifeWarning } from "../../runtime-versions.ts";
import { nodePackageManager } from "../node/package-manager.ts";
import { nodeVersion } from "../node/node-version.ts";
import { nodeInstallFiles } from "../node/node-install-files.ts";
import { plainSite, spaBuild, spaTool, type SpaBuild } from "./static-site.ts";
import { workspaceSite } from "./static-workspace.ts";
import { CADDY_IMAGE, STATIC_PORT, caddyfileRun } from "./caddyfile.ts";

const START = "caddy run --config /etc/caddy/Caddyfile --adapter caddyfile";

export const staticProvider: Provider = {
  name: "static",
  label: "static site",
  runtimeIds: /^static$/,
  lookedFor: "index.html or a Vite, Create React App, Angular or Vue CLI app with no server (a static site)",
  startCommandHelp: "static sites need no start command: Caddy serves the files",

  async detect(ctx) {
    if (await plainSite(ctx)) return true;
    const pkg = await ctx.readJson("package.json").catch(() => null);
    return pkg !== null && (await spaBuild(ctx, pkg)) !== null;
  },

  startEvidence: async () => null,

  async plan(ctx: DetectContext): Promise<BuildPlan> {
    const pkg = await ctx.readJson("package.json");
    if (pkg && typeof pkg.scripts?.build === "string") return spaPlan(ctx, pkg, await spaTool(ctx, pkg));
    if (await ctx.exists("index.html")) return plainPlan(ctx);
    throw userError(`\`runtime: static\` is set, but ${ctx.root === "." ? "the repository" : `\`${ctx.root}\``} has neither an index.html nor a package.json with a \`build\` script.`, {
      title: "Nothing to serve",
      location: { file: ".github/microship.yml" },
      hint: "Add index.html at the app's root, or a `build` script that writes the site, or set `root:` to the site's directory.",
    });
  },
};

async function spaPlan(ctx: DetectContext, pkg: Record<string, any>, spa: SpaBuild): Promise<BuildPlan> {
  const messages: UserMessage[] = [];
  const ws = await workspaceSite(ctx, pkg, messages);
  const version = ws?.version ?? (await nodeVersion(ctx, pkg));
  const eol = endOfLifeWarning(NODE, version.value, ctx.today);
  if (eol) messages.push({ level: "warning", text: eol });
  const pm = ws?.pm ?? (await nodePackageManager(ctx, pkg, messages));
  const cacheFiles = ws?.cacheFiles ?? (await nodeInstallFiles(ctx, pkg, pm));
  const installCommand = ws?.install ?? pm.install;
  const buildCommand = ws?.build ?? `${pm.run} build`;
  messages.unshift(
    { level: "info", text: `Static site: ${spa.tool}, built by \`${buildCommand}\` on Node ${version.value} (from ${version.source}), ${pm.name} (from ${pm.evidence}).` },
    { level: "info", text: `Static site: ${spa.tool} (${spa.evidence} in ${ctx.rel("package.json")}) with no server of its own; Caddy serves ${spa.outputDir}/ on $PORT, and a path that is no file gets index.html.` },
  );
  if (typeof pkg.scripts?.start === "string") messages.push({ level: "info", text: `scripts.start (\`${pkg.scripts.start.slice(0, 200)}\`) is not used: the image serves the built files with Caddy.` });
  const dockerfile = renderTemplate("static", {
    tool: spa.tool,
    build_image: ctx.mirrored(`node:${version.value}-slim`),
    base_image: ctx.baseImage(CADDY_IMAGE),
    build_args: argLines(ctx.config.build_args),
    env: envLines(ctx.config.env),
    setup: pm.setup ?? "",
    dependencies: dependencyLayers(cacheFiles, pm.cacheDir, installCommand),
    build: buildCommand,
    caddyfile: caddyfileRun(true),
    output: ws ? `${ws.appDir}/${spa.outputDir}` : spa.outputDir,
    port: STATIC_PORT,
  });
  return {
    ...planBase(ctx), ...(ws ? { contextRoot: ws.contextRoot } : {}), runtime: "static", provider: "static", version: { value: version.value, source: `${version.source} (the Node that builds the site)` },
    packageManager: { name: pm.name, evidence: pm.evidence }, installCommand, buildCommand, startCommand: START, cacheFiles,
    dockerfile, dockerfilePath: null, dockerignore: await dockerignoreFor(ws?.rootCtx ?? ctx), messages,
  };
}

async function plainPlan(ctx: DetectContext): Promise<BuildPlan> {
  const messages: UserMessage[] = [
    { level: "info", text: "Static site (plain HTML), served by Caddy." },
    { level: "info", text: `Static site: index.html at ${ctx.root === "." ? "the repository's root" : `\`${ctx.root}\``} and no other runtime's files; Caddy serves the files as they are on $PORT.` },
  ];
  const dockerfile = renderTemplate("static-html", { base_image: ctx.baseImage(CADDY_IMAGE), caddyfile: caddyfileRun(false), port: STATIC_PORT });
  return {
    ...planBase(ctx), runtime: "static", provider: "static", version: null, packageManager: null, installCommand: null, buildCommand: null,
    startCommand: START, cacheFiles: [], dockerfile, dockerfilePath: null, dockerignore: await dockerignoreFor(ctx), messages,
  };
}
