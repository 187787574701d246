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

/** The supported Python x.y for a version or a PEP 440-style specifier set, or a user error listing the set. */
export function resolvePython(raw: string, source: string, file?: string): VersionChoice {
  const spec = raw.trim().replace(/^python-?/i, "");
  const exact = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(spec);
  let match: string | undefined;
  if (exact) match = PYTHON_VERSIONS.find((v) => v === `${exact[1]}.${exact[2]}`);
  else {
    // A range prefers the default (the seed's python312 builder), else the newest it allows.
    const allowed = PYTHON_VERSIONS.filter((v) => satisfiesPep440(v, /^\d+$/.test(spec) ? `==${spec}` : spec));
    match = allowed.includes(PYTHON_DEFAULT) ? PYTHON_DEFAULT : allowed[0];
  }
  if (!match) {
    throw userError(`Python ${raw} (from ${source}) is not supported; microship builds Python ${[...PYTHON_VERSIONS].reverse().join(", ")}.`, {
      title: "Unsupported Python version",
      location: file ? { file } : undefined,
      hint: `Use one of ${[...PYTHON_VERSIONS].reverse().join(", ")} in ${source}, or set \`version\` in .github/microship.yml.`,
    });
  }
  return { value: match, source };
}

/**
 * Whether some release of a Python x.y line satisfies a PEP 440 specifier set: the image has
 * the newest patch of its line, so `>=3.11.4` allows 3.11 and `<3.12` does not allow 3.12.
 */
function satisfiesPep440(line: string, spec: string): boolean {
  const lo = semver.coerce(line)!;
  const hi = new semver.SemVer(`${lo.major}.${lo.minor}.999`);
  const sameLine = (t: semver.SemVer) => lo.major === t.major && lo.minor === t.minor;
  return spec.split(",").map((s) => s.trim()).filter(Boolean).every((clause) => {
    const m = /^(~=|===|==|!=|>=|<=|>|<)\s*([\d.*]+)$/.exec(clause);
    if (!m) return false;
    const [, op, target] = m as unknown as [string, string, string];
    if (target.includes("*")) {
      const prefix = target.replace(/\.?\*$/, "");
      const hit = line === prefix || line.startsWith(`${prefix}.`);
      return op === "!=" ? !hit : hit;
    }
    const t = semver.coerce(target)!;
    const parts = target.split(".").length;
    switch (op) {
      case ">=": return semver.gte(hi, t);
      case ">": return semver.gt(hi, t);
      case "<=": return semver.lte(lo, t);
      case "<": return semver.lt(lo, t);
      case "==": case "===": return parts === 1 ? lo.major === t.major : sameLine(t);
      case "!=": return parts === 1 ? lo.major !== t.major : !sameLine(t);
      case "~=": return semver.gte(hi, t) && (parts <= 2 ? lo.major === t.major : sameLine(t));
      default: return false;
    }
  });
}
