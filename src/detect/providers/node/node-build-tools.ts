import type { DetectContext } from "../../context.ts";
import type { UserMessage } from "../../../core/types.ts";

// Packages that compile a native addon at install time and need python3, make and g++.
const NATIVE = ["bcrypt", "sqlite3", "better-sqlite3", "node-gyp", "canvas", "argon2", "node-sass", "re2", "cpu-features", "leveldown", "zeromq"];

/** python3, make and g++ in the build stage when a dependency compiles a native addon. */
export async function nativeBuildTools(ctx: DetectContext, pkg: Record<string, any>, messages: UserMessage[]): Promise<string> {
  const deps = { ...(pkg.dependencies ?? {}), ...(pkg.devDependencies ?? {}), ...(pkg.optionalDependencies ?? {}) };
  const native = NATIVE.filter((n) => n in deps);
  if (native.length === 0 && !(await ctx.exists("binding.gyp"))) return "";
  messages.push({ level: "info", text: `Native modules (${native.join(", ") || "binding.gyp"}): python3, make and g++ are installed in the build stage only.` });
  return "RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*";
}

export async function plugAndPlay(ctx: DetectContext): Promise<boolean> {
  const rc = (await ctx.read(".yarnrc.yml")) ?? "";
  return !/^nodeLinker:\s*["']?(node-modules|pnpm)\b/m.test(rc);
}
