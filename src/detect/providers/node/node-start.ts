import type { DetectContext } from "../../context.ts";

export const ENTRY_FILES = ["index.js", "src/index.js", "main.js", "app.js", "server.js"];

export interface NodeStart {
  command: string;
  source: string;
  /** Written by the user (config or Procfile), so used exactly as written. */
  verbatim: boolean;
}

/**
 * config, the Procfile, `start:prod` (the production start of NestJS and many starters: `start`
 * there runs a dev-only CLI), `start`, `main`, then the usual entry files.
 */
export async function nodeStart(ctx: DetectContext, pkg: Record<string, any>, run: string): Promise<NodeStart | null> {
  if (ctx.config.start) return { command: ctx.config.start, source: "`start` in .github/microship.yml", verbatim: true };
  const web = await ctx.procfileWeb();
  if (web) return { command: web, source: "the Procfile's web line", verbatim: true };
  if (typeof pkg.scripts?.["start:prod"] === "string") return { command: `${run} start:prod`, source: "scripts[\"start:prod\"]", verbatim: false };
  // npm, pnpm and yarn have a `start` shorthand; bun's `bun start` is not the script.
  if (typeof pkg.scripts?.start === "string") return { command: run === "bun run" ? "bun run start" : `${run.split(" ")[0]} start`, source: "scripts.start", verbatim: false };
  if (typeof pkg.main === "string" && (await ctx.exists(pkg.main))) return { command: `node ${pkg.main}`, source: `main in ${ctx.rel("package.json")}`, verbatim: false };
  const entry = await ctx.firstExisting(ENTRY_FILES);
  return entry ? { command: `node ${entry}`, source: ctx.rel(entry), verbatim: false } : null;
}
