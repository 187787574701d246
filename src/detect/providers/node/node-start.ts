import type { DetectContext } from "../../context.ts";
import { platformStart } from "../../platform-start.ts";
import { devServerOf, frameworkStart } from "./framework-start.ts";

export const ENTRY_FILES = ["index.js", "src/index.js", "main.js", "app.js", "server.js"];

export interface NodeStart {
  command: string;
  source: string;
  /** Written by the user (config, Procfile, another platform's config), so used exactly as written. */
  verbatim: boolean;
  /** Appended to the runtime stage's ENV line. */
  env?: string;
}

/**
 * config, the Procfile, another platform's config, `start:prod` (the production start of NestJS
 * and many starters: `start` there runs a dev-only CLI), `start` unless it runs a dev server, a
 * framework's production server, `main`, the entry files. A dev server (`react-scripts start`) is
 * never the production start: it is slow, unminified and not built for traffic.
 * `exec` runs a binary of node_modules (`npx --no`, or `yarn` under Plug'n'Play).
 */
export async function nodeStart(ctx: DetectContext, pkg: Record<string, any>, run: string, exec: string): Promise<NodeStart | null> {
  if (ctx.config.start) return { command: ctx.config.start, source: "`start` in .github/microship.yml", verbatim: true };
  const web = await ctx.procfileWeb();
  if (web) return { command: web, source: "the Procfile's web line", verbatim: true };
  const platform = await platformStart(ctx);
  if (platform) return { ...platform, verbatim: true };
  if (typeof pkg.scripts?.["start:prod"] === "string") return { command: `${run} start:prod`, source: "scripts[\"start:prod\"]", verbatim: false };
  // npm, pnpm and yarn have a `start` shorthand; bun's `bun start` is not the script.
  const start = typeof pkg.scripts?.start === "string" ? { command: run === "bun run" ? "bun run start" : `${run.split(" ")[0]} start`, source: "scripts.start", verbatim: false } : null;
  const dev = start ? devServerOf(pkg.scripts.start) : null;
  if (start && !dev) return start;
  const framework = await frameworkStart(ctx, pkg, exec);
  if (framework) return { ...framework, source: dev ? `${framework.source}, not scripts.start, which runs the dev server \`${dev}\`` : framework.source, verbatim: false };
  if (typeof pkg.main === "string" && (await ctx.exists(pkg.main))) return { command: `node ${pkg.main}`, source: `main in ${ctx.rel("package.json")}`, verbatim: false };
  const entry = await ctx.firstExisting(ENTRY_FILES);
  return entry ? { command: `node ${entry}`, source: ctx.rel(entry), verbatim: false } : null;
}
