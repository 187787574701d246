/**
 * Docker's .dockerignore semantics (moby/patternmatcher), which differ from .gitignore in ways
 * that matter: every pattern is anchored at the context root (`foo` excludes ./foo only), a
 * pattern that matches a parent directory matches everything below it, and the last matching
 * pattern wins, so `!docs/keep.md` re-includes a file inside an excluded `docs`.
 * The `ignore` package implements .gitignore, where that re-inclusion is impossible.
 */
interface Rule {
  regex: RegExp;
  exclusion: boolean;
}

function toRegex(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end === -1) re += "\\[";
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (ch === "\\" && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += ch.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function clean(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/");
}

export function parseDockerignore(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const exclusion = line.startsWith("!");
    const pattern = clean((exclusion ? line.slice(1) : line).trim());
    if (!pattern) continue;
    rules.push({ regex: toRegex(pattern), exclusion });
  }
  return rules;
}

/** True when `relPath` (slash-separated, relative to the context) is left out of the context. */
export function dockerignoreMatcher(text: string): (relPath: string, isDir: boolean) => boolean {
  const rules = parseDockerignore(text);
  return (relPath) => {
    const segments = relPath.split("/");
    const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join("/"));
    let excluded = false;
    for (const rule of rules) {
      if (prefixes.some((p) => rule.regex.test(p))) excluded = !rule.exclusion;
    }
    return excluded;
  };
}

/** Whether any rule re-includes something: then an excluded directory must still be walked. */
export function hasExceptions(text: string): boolean {
  return parseDockerignore(text).some((r) => r.exclusion);
}
