/**
 * A .dockerignore pattern as tokens. The language is the old regex translation's, close to
 * moby/patternmatcher's: `*` is `[^/]*`, `?` is `[^/]`, `**` then `/` is an optional run ending in `/`, any other `**` is `.*`, `[...]`
 * is a character class (`!` or `^` negates; like moby's regex class it can match `/`), and `\`
 * takes the next character literally. Unlike a regex `.`, the `**` runs take a newline too: a
 * file name with one in it is no way around a pattern.
 */

/** A pattern the matcher can't compile; the message is said to the user. */
export class GlobSyntaxError extends Error {}

// Token kinds. Consuming tokens move to the next state on one character; the three stars loop.
export const LIT = 0;
export const ONE = 1;
export const CLASS = 2;
export const STAR = 3;
export const ANY = 4;
export const DIRS = 5;

export interface Token {
  kind: number;
  /** LIT: the character code. */
  code: number;
  /** CLASS: inclusive [lo, hi] pairs, and whether the class is negated. */
  ranges: number[];
  negated: boolean;
}

export const SLASH = 47;

export function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  const push = (kind: number, code = 0, ranges: number[] = [], negated = false) => {
    const last = tokens.at(-1);
    // `**`, `***`… and `**/**/` collapse: repeated loops match nothing more, and only cost states.
    if (last && last.kind === kind && (kind === STAR || kind === ANY || kind === DIRS)) return;
    tokens.push({ kind, code, ranges, negated });
  };
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          push(DIRS);
        } else push(ANY);
      } else push(STAR);
    } else if (ch === "?") push(ONE);
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end === -1) throw new GlobSyntaxError(`the character class at column ${i + 1} has no closing \`]\``);
      const { ranges, negated } = parseClass(pattern.slice(i + 1, end), i + 1);
      push(CLASS, 0, ranges, negated);
      i = end;
    } else if (ch === "\\" && i + 1 < pattern.length) push(LIT, pattern.charCodeAt(++i));
    else push(LIT, pattern.charCodeAt(i));
  }
  return tokens;
}

/** The body of `[...]`, read as a JavaScript or Go regex reads a class (no escapes inside). */
function parseClass(body: string, column: number): { ranges: number[]; negated: boolean } {
  const negated = body.startsWith("!") || body.startsWith("^");
  const ranges: number[] = [];
  for (let j = negated ? 1 : 0; j < body.length; j++) {
    const lo = body.charCodeAt(j);
    if (body[j + 1] === "-" && j + 2 < body.length) {
      const hi = body.charCodeAt(j + 2);
      if (lo > hi) throw new GlobSyntaxError(`the range \`${body.slice(j, j + 3)}\` in the character class at column ${column} runs backwards`);
      ranges.push(lo, hi);
      j += 2;
    } else ranges.push(lo, lo);
  }
  return { ranges, negated };
}

export function inClass(t: Token, c: number): boolean {
  let hit = false;
  for (let k = 0; k < t.ranges.length && !hit; k += 2) hit = c >= t.ranges[k]! && c <= t.ranges[k + 1]!;
  return hit !== t.negated;
}

