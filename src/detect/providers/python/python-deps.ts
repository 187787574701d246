import { parse as parseToml } from "smol-toml";
import type { DetectContext } from "../../context.ts";
import { userError } from "../../../core/errors.ts";
import { requirementFiles } from "./requirement-files.ts";
import { normalizeName, requirementName } from "./pep508-name.ts";

/** Lower-cased names of the app's declared dependencies, from whichever manifests it has. */
export async function pythonDependencies(ctx: DetectContext): Promise<Set<string>> {
  const names = new Set<string>();
  for (const req of await requirementFiles(ctx, false)) {
    if (req.constraints) continue;
    for (const line of req.text.split("\n")) {
      const name = requirementName(line);
      if (name) names.add(name);
    }
  }
  const pyproject = await toml(ctx, "pyproject.toml");
  for (const d of arrayOf((pyproject?.project as any)?.dependencies)) {
    const name = requirementName(String(d));
    if (name) names.add(name);
  }
  for (const d of Object.keys((pyproject?.tool as any)?.poetry?.dependencies ?? {})) names.add(normalize(d));
  const pipfile = await toml(ctx, "Pipfile");
  for (const d of Object.keys((pipfile?.packages as object) ?? {})) names.add(normalize(d));
  return names;
}

export function normalize(name: string): string {
  return normalizeName(name);
}

const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export async function toml(ctx: DetectContext, file: string): Promise<Record<string, unknown> | null> {
  const text = await ctx.read(file);
  if (text === null) return null;
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const line = (err as { line?: number }).line;
    throw userError(`${ctx.rel(file)} is not valid TOML: ${(err as Error).message.split("\n")[0]}`, {
      title: `Invalid ${file}`,
      location: { file: ctx.rel(file), line },
      hint: `Fix the syntax of ${ctx.rel(file)}.`,
    });
  }
}
