import type { DetectContext } from "../../context.ts";
import type { VersionChoice } from "../../../core/types.ts";
import { resolveNodeMajor } from "../../versions.ts";
import { NODE } from "../../runtime-versions.ts";

/** config, engines.node, .nvmrc, .node-version, .tool-versions; otherwise the current LTS. */
export async function nodeVersion(ctx: DetectContext, pkg: Record<string, any>): Promise<VersionChoice> {
  const fromRuntime = /^nodejs(\d+)$/.exec(ctx.config.runtime ?? "")?.[1];
  if (ctx.config.version) return resolveNodeMajor(ctx.config.version, "`version` in .github/microship.yml", ".github/microship.yml");
  if (fromRuntime) return resolveNodeMajor(fromRuntime, "`runtime` in .github/microship.yml", ".github/microship.yml");
  if (typeof pkg.engines?.node === "string") return resolveNodeMajor(pkg.engines.node, `engines.node in ${ctx.rel("package.json")}`, ctx.rel("package.json"));
  for (const file of [".nvmrc", ".node-version"]) {
    const text = (await ctx.read(file))?.trim();
    if (text) return resolveNodeMajor(text.split(/\s+/)[0]!, ctx.rel(file), ctx.rel(file));
  }
  const tools = await ctx.read(".tool-versions");
  const line = tools ? /^(?:nodejs|node)\s+(\S+)/m.exec(tools) : null;
  if (line) return resolveNodeMajor(line[1]!, ctx.rel(".tool-versions"), ctx.rel(".tool-versions"));
  return { value: NODE.default, source: "default (current LTS)" };
}
