/**
 * Docker's .dockerignore semantics (moby/patternmatcher), which differ from .gitignore in ways
 * that matter: every pattern is anchored at the context root (`foo` excludes ./foo only), a
 * pattern that matches a parent directory matches everything below it, and the last matching
 * pattern wins, so `!docs/keep.md` re-includes a file inside an excluded `docs`.
 * The `ignore` package implements .gitignore, where that re-inclusion is impossible, and
 * picomatch's regexes backtrack on patterns such as `**a**a**a`: compile-glob.ts matches in
 * linear time instead.
 *
 * The file comes from the repository, so its size is bounded, and a pattern that can't be
 * compiled (`[z-a]`, an unclosed `[`) is the user's error on its line, as it is for Docker.
 */
import { userError } from "../core/errors.ts";
import { compileGlob, GlobBudget, GlobCostError, GlobSyntaxError, type Glob } from "./compile-glob.ts";

export const MAX_DOCKERIGNORE_LINES = 10_000;
export const MAX_DOCKERIGNORE_LINE_CHARS = 4096;

interface Rule {
  glob: Glob;
  exclusion: boolean;
  line: number;
  text: string;
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

function invalid(file: string, line: number, detail: string, hint: string) {
  return userError(`${file}:${line}: ${detail}.`, { title: "Invalid .dockerignore", location: { file, line }, hint });
}

/** `file` names the .dockerignore in messages, relative to the repository. */
export function parseDockerignore(text: string, file = ".dockerignore"): Rule[] {
  if (text.length > MAX_DOCKERIGNORE_LINES * (MAX_DOCKERIGNORE_LINE_CHARS + 2)) {
    throw invalid(file, 1, `the file is larger than ${MAX_DOCKERIGNORE_LINES} lines of ${MAX_DOCKERIGNORE_LINE_CHARS} characters`, "Keep it to the patterns the build needs.");
  }
  const lines = text.split(/\r?\n/);
  if (lines.length > MAX_DOCKERIGNORE_LINES + 1 || (lines.length === MAX_DOCKERIGNORE_LINES + 1 && lines.at(-1) !== "")) {
    throw invalid(file, MAX_DOCKERIGNORE_LINES + 1, `the file has more than ${MAX_DOCKERIGNORE_LINES} lines`, "Keep it to the patterns the build needs: a directory's pattern covers everything below it.");
  }
  const rules: Rule[] = [];
  const budget = new GlobBudget();
  lines.forEach((raw, i) => {
    if (raw.length > MAX_DOCKERIGNORE_LINE_CHARS) {
      throw invalid(file, i + 1, `the line is longer than ${MAX_DOCKERIGNORE_LINE_CHARS} characters`, "Shorten the pattern; `*` and `**` stand for any run of characters.");
    }
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    const exclusion = line.startsWith("!");
    const pattern = clean((exclusion ? line.slice(1) : line).trim());
    if (!pattern) return;
    try {
      rules.push({ glob: compileGlob(pattern, budget), exclusion, line: i + 1, text: line });
    } catch (err) {
      if (!(err instanceof GlobSyntaxError)) throw err;
      throw invalid(file, i + 1, `\`${line.slice(0, 200)}\` is not a valid pattern: ${err.message}`, "Fix or remove the pattern; Docker refuses it too.");
    }
  });
  return rules;
}

/** True when `relPath` (slash-separated, relative to the context) is left out of the context. */
export function dockerignoreMatcher(text: string, file?: string): (relPath: string, isDir: boolean) => boolean {
  const name = file ?? ".dockerignore";
  const rules = parseDockerignore(text, name);
  return (relPath) => {
    let excluded = false;
    for (const rule of rules) {
      // As moby: only a rule that could change the answer is tried.
      if (rule.exclusion !== excluded) continue;
      try {
        if (rule.glob.matchesOrParent(relPath)) excluded = !rule.exclusion;
      } catch (err) {
        if (!(err instanceof GlobCostError)) throw err;
        throw invalid(name, rule.line, `\`${rule.text.slice(0, 200)}\` is too costly to match: ${err.message}`, "Simplify the pattern: fewer `*` and `**` before a long run of fixed characters.");
      }
    }
    return excluded;
  };
}

/** Whether any rule re-includes something: then an excluded directory must still be walked. */
export function hasExceptions(text: string): boolean {
  return parseDockerignore(text).some((r) => r.exclusion);
}
