import type { DetectContext } from "../../context.ts";
import { platformStart } from "../../platform-start.ts";
import { referencedPath } from "../../referenced-path.ts";
import { devServerOf } from "../node/framework-start.ts";

export interface SpaBuild {
  /** "Vite", "Create React App", ... */
  tool: string;
  /** The dependency that told. */
  evidence: string;
  /** Where the build writes the site, relative to the app. */
  outputDir: string;
}

// Checked in order: the first toolchain among the dependencies names the build.
const TOOLS: { dep: string; tool: string; outputDir: string }[] = [
  { dep: "react-scripts", tool: "Create React App", outputDir: "build" },
  { dep: "@angular/cli", tool: "Angular", outputDir: "dist" },
  { dep: "@vue/cli-service", tool: "Vue CLI", outputDir: "dist" },
  { dep: "vite", tool: "Vite", outputDir: "dist" },
];
// Any of these means the app has a server of its own: it is a Node app, not a static site.
const SERVERS = [
  "express", "fastify", "koa", "@hapi/hapi", "hono", "@hono/node-server", "next", "nuxt", "nitropack", "@sveltejs/kit", "astro",
  "@remix-run/serve", "@remix-run/node", "@react-router/serve", "@react-router/node", "@nestjs/core", "@angular/ssr",
  "@nguniversal/express-engine", "vike", "vite-plugin-ssr", "@solidjs/start", "@builder.io/qwik-city", "socket.io", "ws",
];
// A start script that only serves files is no server of the app's own.
const FILE_SERVERS = new Set(["serve", "http-server", "sirv", "live-server", "lite-server"]);
// Other runtimes' manifests: with one of these, index.html is a page of that app.
const OTHER_MANIFESTS = ["requirements.txt", "pyproject.toml", "Pipfile", "manage.py", "main.py", "app.py", "go.mod", "Gemfile", "composer.json", "Cargo.toml"];

/**
 * A single-page app: a known toolchain, a build script, and no server: no server framework
 * among the dependencies, no other runtime's manifest, no start command of the user's (config,
 * Procfile, another platform), no `start:prod`, and a `start` that is absent, a dev server or a
 * plain file server.
 */
export async function spaBuild(ctx: DetectContext, pkg: Record<string, any>): Promise<SpaBuild | null> {
  const deps = { ...(pkg.dependencies ?? {}), ...(pkg.devDependencies ?? {}) };
  if (!TOOLS.some((t) => Object.hasOwn(deps, t.dep)) || typeof pkg.scripts?.build !== "string") return null;
  if (SERVERS.some((s) => Object.hasOwn(deps, s)) || typeof pkg.scripts?.["start:prod"] === "string") return null;
  const start = pkg.scripts?.start;
  if (typeof start === "string" && !devServerOf(start) && !FILE_SERVERS.has(start.trim().split(/\s+/)[0]!)) return null;
  if (ctx.config.start || (await ctx.procfileWeb()) || (await platformStart(ctx))) return null;
  if ((await ctx.firstExisting(OTHER_MANIFESTS)) !== null) return null;
  return spaTool(ctx, pkg);
}

/** The toolchain and output directory of an app with a build script, servers or not (for `runtime: static`). */
export async function spaTool(ctx: DetectContext, pkg: Record<string, any>): Promise<SpaBuild> {
  const deps = { ...(pkg.dependencies ?? {}), ...(pkg.devDependencies ?? {}) };
  const found = TOOLS.find((t) => Object.hasOwn(deps, t.dep));
  if (!found) return { tool: "the build script", evidence: "scripts.build", outputDir: "dist" };
  const outputDir = found.tool === "Angular" ? await angularOutput(ctx) : found.outputDir;
  return { tool: found.tool, evidence: found.dep, outputDir };
}

/** A plain site: index.html at the app's root, and nothing of another runtime. */
export async function plainSite(ctx: DetectContext): Promise<boolean> {
  if (!(await ctx.exists("index.html")) || (await ctx.exists("package.json"))) return false;
  return (await ctx.firstExisting(OTHER_MANIFESTS)) === null;
}

/**
 * Angular writes to angular.json's outputPath (default dist/<project>), and its application
 * builder (Angular 17+) puts the browser files in a `browser` folder there. The path goes into
 * a COPY line, so it goes through referencedPath like every path a file of the app names.
 */
async function angularOutput(ctx: DetectContext): Promise<string> {
  const config = await ctx.readJson("angular.json").catch(() => null);
  const projects = config?.projects && typeof config.projects === "object" ? Object.entries(config.projects as Record<string, any>) : [];
  const [name, project] = projects.find(([, p]) => p?.projectType === "application") ?? projects[0] ?? [];
  if (!name) return "dist";
  const build = project?.architect?.build;
  const out = build?.options?.outputPath;
  const base = typeof out === "string" ? out : typeof out?.base === "string" ? out.base : `dist/${name}`;
  const browser = typeof out?.browser === "string" ? out.browser : "browser";
  const application = typeof build?.builder === "string" && build.builder.endsWith(":application");
  return referencedPath(application && browser ? `${base}/${browser}` : base, "angular.json", ctx.rel("angular.json"));
}
