import type { DetectContext } from "../../context.ts";
import type { VersionChoice } from "../../../core/types.ts";
import { resolvePython } from "../../versions.ts";
import { PYTHON } from "../../runtime-versions.ts";
import { toml } from "./python-deps.ts";

/** config, .python-version (its first line that isn't blank or a comment), runtime.txt, requires-python, Pipfile python_version; else the default. */
export async function pythonVersion(ctx: DetectContext): Promise<VersionChoice> {
  const fromRuntime = /^python(\d)(\d+)$/.exec(ctx.config.runtime ?? "");
  if (ctx.config.version) return resolvePython(ctx.config.version, "`version` in .github/microship.yml", ".github/microship.yml");
  if (fromRuntime) return resolvePython(`${fromRuntime[1]}.${fromRuntime[2]}`, "`runtime` in .github/microship.yml", ".github/microship.yml");
  const pv = firstVersionLine((await ctx.read(".python-version")) ?? "");
  if (pv) return resolvePython(pv, ctx.rel(".python-version"), ctx.rel(".python-version"));
  const rt = (await ctx.read("runtime.txt"))?.trim();
  if (rt) return resolvePython(rt, ctx.rel("runtime.txt"), ctx.rel("runtime.txt"));
  const pyproject = await toml(ctx, "pyproject.toml");
  const requires = (pyproject?.project as any)?.["requires-python"];
  if (typeof requires === "string") return resolvePython(requires, `requires-python in ${ctx.rel("pyproject.toml")}`, ctx.rel("pyproject.toml"));
  const pipfile = await toml(ctx, "Pipfile");
  const pipVersion = (pipfile?.requires as any)?.python_version ?? (pipfile?.requires as any)?.python_full_version;
  if (typeof pipVersion === "string") return resolvePython(pipVersion, `python_version in ${ctx.rel("Pipfile")}`, ctx.rel("Pipfile"));
  return { value: PYTHON.default, source: "default" };
}

/** pyenv skips blank lines and `#` comments; the first other line's first word is the version. */
export function firstVersionLine(text: string): string | undefined {
  for (const line of text.split("\n")) {
    const word = line.trim().split(/\s+/)[0];
    if (word && !word.startsWith("#")) return word;
  }
  return undefined;
}
