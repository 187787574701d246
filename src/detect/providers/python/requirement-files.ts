import type { DetectContext } from "../../context.ts";
import { userError } from "../../../core/errors.ts";
import { referencedPath } from "../../referenced-path.ts";

/** Bounds on the `-r`/`-c` graph: a hostile repo must not make detection read without end. */
export const MAX_REQUIREMENT_FILES = 32;
export const MAX_REQUIREMENT_DEPTH = 8;

export interface RequirementFile {
  /** From the app root, as COPY needs it. */
  path: string;
  text: string;
  /** Named by `-c`: pins versions, adds no dependency. */
  constraints: boolean;
}

interface Ref {
  path: string;
  constraints: boolean;
  depth: number;
  from: string | null;
  line?: number;
}

/**
 * requirements.txt and every file it names with `-r`/`--requirement` or `-c`/`--constraint`,
 * recursively, each once. pip resolves such a path from the directory of the file that names
 * it, so they must be copied to the same place before `pip install -r requirements.txt` runs.
 * Strict (for the install): a missing, unsafe or runaway reference is a user error. Lenient
 * (for reading dependency names): whatever can't be read is skipped.
 */
export async function requirementFiles(ctx: DetectContext, strict: boolean, root = "requirements.txt"): Promise<RequirementFile[]> {
  const out: RequirementFile[] = [];
  const seen = new Set<string>([root]);
  const queue: Ref[] = [{ path: root, constraints: false, depth: 0, from: null }];
  while (queue.length > 0) {
    const ref = queue.shift()!;
    const text = await ctx.read(ref.path).catch((err: unknown) => {
      if (strict) throw err;
      return null;
    });
    if (text === null) {
      if (strict && ref.from) throw problem(ctx, ref, "does not exist in the app's directory");
      continue;
    }
    out.push({ path: ref.path, text, constraints: ref.constraints });
    for (const next of references(ctx, ref, text, strict)) {
      if (seen.has(next.path)) continue;
      seen.add(next.path);
      if (strict && next.depth > MAX_REQUIREMENT_DEPTH) throw problem(ctx, next, `is nested deeper than ${MAX_REQUIREMENT_DEPTH} files`);
      if (strict && seen.size > MAX_REQUIREMENT_FILES) throw problem(ctx, next, `brings the requirement files over ${MAX_REQUIREMENT_FILES}`);
      if (next.depth <= MAX_REQUIREMENT_DEPTH && seen.size <= MAX_REQUIREMENT_FILES) queue.push(next);
    }
  }
  return out;
}

const OPTIONS: Record<string, boolean> = { "-r": false, "--requirement": false, "-c": true, "--constraint": true };

/** The `-r` and `-c` options of one file, by whitespace-separated words: no regex on its text. */
function references(ctx: DetectContext, from: Ref, text: string, strict: boolean): Ref[] {
  const out: Ref[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const words = uncommented(lines[i]!).split(/\s+/).filter(Boolean);
    for (let w = 0; w < words.length; w++) {
      const [option, inline] = splitOption(words[w]!);
      if (option === null) continue;
      const value = inline ?? words[++w];
      if (!value) continue;
      try {
        out.push({ path: referencedPath(value, from.path, ctx.rel(from.path), i + 1), constraints: OPTIONS[option]!, depth: from.depth + 1, from: from.path, line: i + 1 });
      } catch (err) {
        if (strict) throw err;
      }
    }
  }
  return out;
}

/** `-r x`, `-rx`, `--requirement x`, `--requirement=x` (and the same for -c): the option and any inline value. */
function splitOption(word: string): [string | null, string | undefined] {
  const eq = word.indexOf("=");
  const name = eq > 0 && word.startsWith("--") ? word.slice(0, eq) : word;
  if (name in OPTIONS) return [name, eq > 0 && word.startsWith("--") ? word.slice(eq + 1) : undefined];
  const short = word.slice(0, 2);
  if ((short === "-r" || short === "-c") && word.length > 2) return [short, word.slice(2)];
  return [null, undefined];
}

/** pip's comment rule: `#` at the start of a line or after whitespace starts a comment. */
function uncommented(line: string): string {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "#" && (i === 0 || line[i - 1] === " " || line[i - 1] === "\t")) return line.slice(0, i);
  }
  return line;
}

function problem(ctx: DetectContext, ref: Ref, why: string) {
  const from = ref.from ? ctx.rel(ref.from) : ctx.rel(ref.path);
  return userError(`${from}${ref.line ? ` line ${ref.line}` : ""} names \`${ctx.rel(ref.path)}\` with ${ref.constraints ? "-c" : "-r"}, which ${why}.`, {
    title: "Broken requirements reference",
    location: { file: from, line: ref.line },
    hint: `Fix the \`${ref.constraints ? "-c" : "-r"}\` line in ${from} so that it names a requirements file inside the app's directory.`,
  });
}
