import semver from "semver";
import { userError } from "../core/errors.ts";
import type { VersionChoice } from "../core/types.ts";

export const NODE_MAJORS = ["24", "22", "20"];
export const NODE_DEFAULT = "24";
export const PYTHON_VERSIONS = ["3.13", "3.12", "3.11"];
export const PYTHON_DEFAULT = "3.12";

/** The newest supported Node major that satisfies a version or range, or a user error listing the set. */
export function resolveNodeMajor(raw: string, source: string, file?: string): VersionChoice {
  const spec = raw.trim().replace(/^v/, "");
  if (/^(lts\/\*|lts|node|latest|stable|\*)$/i.test(spec)) return { value: NODE_DEFAULT, source };
  const named = /^lts\/(\w+)$/i.exec(spec);
  if (named) {
    const codenames: Record<string, string> = { iron: "20", jod: "22", krypton: "24" };
    const major = codenames[named[1]!.toLowerCase()];
    if (major) return { value: major, source };
  }
  const range = semver.validRange(spec);
  const major = range ? NODE_MAJORS.find((m) => semver.intersects(range, `${m}.x`)) : undefined;
  if (!major) {
    throw userError(`Node ${raw} (from ${source}) is not supported; microship builds Node ${[...NODE_MAJORS].reverse().join(", ")}.`, {
      title: "Unsupported Node version",
      location: file ? { file } : undefined,
      hint: `Use one of ${[...NODE_MAJORS].reverse().join(", ")} in ${source}, or set \`version\` in .github/microship.yml.`,
    });
  }
  return { value: major, source };
}

/** The newest supported Python x.y that satisfies a version or a PEP 440-style specifier set. */
export function resolvePython(raw: string, source: string, file?: string): VersionChoice {
  const spec = raw.trim().replace(/^python-?/i, "");
  const exact = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(spec);
  let match: string | undefined;
  if (exact) match = PYTHON_VERSIONS.find((v) => v === `${exact[1]}.${exact[2]}`);
  else match = PYTHON_VERSIONS.find((v) => satisfiesPep440(v, spec));
  if (!match) {
    throw userError(`Python ${raw} (from ${source}) is not supported; microship builds Python ${[...PYTHON_VERSIONS].reverse().join(", ")}.`, {
      title: "Unsupported Python version",
      location: file ? { file } : undefined,
      hint: `Use one of ${[...PYTHON_VERSIONS].reverse().join(", ")} in ${source}, or set \`version\` in .github/microship.yml.`,
    });
  }
  return { value: match, source };
}

function satisfiesPep440(version: string, spec: string): boolean {
  const v = semver.coerce(version)!;
  return spec.split(",").map((s) => s.trim()).filter(Boolean).every((clause) => {
    const m = /^(~=|==|!=|>=|<=|>|<)\s*([\d.*]+)$/.exec(clause);
    if (!m) return false;
    const [, op, target] = m as unknown as [string, string, string];
    if (target.includes("*")) {
      const prefix = target.replace(/\.?\*$/, "");
      const hit = version === prefix || version.startsWith(`${prefix}.`);
      return op === "!=" ? !hit : hit;
    }
    const t = semver.coerce(target)!;
    const parts = target.split(".").length;
    switch (op) {
      case ">=": return semver.gte(v, t);
      case ">": return semver.gt(v, t) && !(parts <= 2 && `${v.major}.${v.minor}` === `${t.major}.${t.minor}`);
      case "<=": return semver.lte(v, t) || `${v.major}.${v.minor}` === `${t.major}.${t.minor}`;
      case "<": return semver.lt(v, t);
      case "==": return `${v.major}.${v.minor}` === `${t.major}.${t.minor}`;
      case "!=": return `${v.major}.${v.minor}` !== `${t.major}.${t.minor}`;
      case "~=": return semver.gte(v, t) && (parts <= 2 ? v.major === t.major : v.major === t.major && v.minor === t.minor);
      default: return false;
    }
  });
}
