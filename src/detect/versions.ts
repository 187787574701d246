import semver from "semver";
import { userError } from "../core/errors.ts";
import type { VersionChoice } from "../core/types.ts";
import { NODE, NODE_CODENAMES, PYTHON, preferredOf, versionList, type RuntimeFamily } from "./runtime-versions.ts";

/** The Node major a version or range asks for (see preferredOf), or a user error listing the table. */
export function resolveNodeMajor(raw: string, source: string, file?: string): VersionChoice {
  const spec = raw.trim().replace(/^v/, "");
  if (/^(lts\/\*|lts|node|latest|stable|\*)$/i.test(spec)) return { value: NODE.default, source };
  const named = /^lts\/(\w+)$/i.exec(spec);
  const codename = named ? NODE_CODENAMES[named[1]!.toLowerCase()] : undefined;
  if (codename) return { value: codename, source };
  const range = named ? null : semver.validRange(spec);
  const allowed = range ? NODE.versions.filter((v) => semver.intersects(range, `${v.version}.x`)) : [];
  const major = preferredOf(NODE, allowed);
  if (!major) throw unsupported(NODE, raw, source, file);
  return { value: major, source };
}

/** The Python x.y a version or a PEP 440-style specifier set asks for, or a user error listing the table. */
export function resolvePython(raw: string, source: string, file?: string): VersionChoice {
  const spec = raw.trim().replace(/^python-?/i, "");
  const exact = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(spec);
  let match: string | undefined;
  if (exact) match = PYTHON.versions.find((v) => v.version === `${exact[1]}.${exact[2]}`)?.version;
  else match = preferredOf(PYTHON, PYTHON.versions.filter((v) => satisfiesPep440(v.version, /^\d+$/.test(spec) ? `==${spec}` : spec)));
  if (!match) throw unsupported(PYTHON, raw, source, file);
  return { value: match, source };
}

function unsupported(family: RuntimeFamily, raw: string, source: string, file: string | undefined) {
  const id = family.label.toLowerCase();
  return userError(`${family.label} ${raw} (from ${source}) is not supported: microship builds ${family.label} ${versionList(family)}, the versions with an official ${id} image it can build on.`, {
    title: `Unsupported ${family.label} version`,
    location: file ? { file } : undefined,
    hint: `Use one of ${versionList(family)} in ${source}, or set \`version\` in .github/microship.yml.`,
  });
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
