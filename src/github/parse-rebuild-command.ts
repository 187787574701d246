/** GitHub refuses comments over 65,536 characters; a longer body did not come from GitHub. */
export const MAX_COMMENT_CHARS = 65_536;

interface Fence {
  char: "`" | "~";
  length: number;
  /** Opened after a list marker: its closing fence is indented with the item's content. */
  inList: boolean;
}

/**
 * `/rebuild`, optionally followed by `--no-cache`, as a line of its own in the comment's text.
 * A line that the comment shows as code or as a quote is not a command: someone quoting or
 * documenting `/rebuild` must not start a build.
 *
 * One pass over the lines, with CommonMark's block rules where they decide this and the
 * cautious side where a full parser would be needed (a line we can't place is not a command):
 * - fenced code (``` or ~~~, three or more, at most three spaces in, also after a list
 *   marker) runs to a closing fence of the same character at least as long, or to the end;
 * - four columns of indentation is indented code, or a continuation line: not a command;
 * - a quote (`>`) runs to the next blank line, lazy continuation lines included;
 * - an HTML comment hides its lines; a line underlined by `===` or `---` is a heading.
 * No regex runs on the body, so nothing can backtrack on it.
 */
export function parseRebuildCommand(body: string): { noCache: boolean } | null {
  return findCommandLine(body, asCommand);
}

/**
 * The first line of the comment's text (as above: not code, not a quote, not a heading) for
 * which `asCommand` returns something; `asCommand` gets the line's text without its indentation.
 */
export function findCommandLine<T>(body: string, asCommand: (text: string) => T | null): T | null {
  if (body.length > MAX_COMMENT_CHARS) return null;
  const lines = body.split("\n");
  let fence: Fence | null = null;
  let quote = false;
  let htmlComment = false;
  for (let i = 0; i < lines.length; i++) {
    const line = stripCr(lines[i]!);
    const { columns, rest } = indentation(line);
    if (fence) {
      if ((columns <= 3 || fence.inList) && closesFence(rest, fence)) fence = null;
      continue;
    }
    if (htmlComment) {
      if (line.includes("-->")) htmlComment = false;
      continue;
    }
    if (rest.length === 0) {
      quote = false;
      continue;
    }
    if (columns <= 3) {
      const item = afterListMarkers(rest);
      const opened = opensFence(item, item !== rest);
      if (opened) {
        fence = opened;
        quote = false;
        continue;
      }
      if (rest.startsWith(">")) {
        quote = true;
        continue;
      }
    }
    if (quote) continue;
    if (columns <= 3 && rest.startsWith("<!--")) {
      htmlComment = !rest.includes("-->", 4);
      continue;
    }
    if (columns > 3) continue;
    const command = asCommand(rest);
    if (command && !isSetextUnderline(lines[i + 1])) return command;
  }
  return null;
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/** Leading whitespace in columns (a tab goes to the next multiple of 4), and the text after it. */
function indentation(line: string): { columns: number; rest: string } {
  let columns = 0;
  let i = 0;
  for (; i < line.length; i++) {
    const c = line[i];
    if (c === " ") columns++;
    else if (c === "\t") columns += 4 - (columns % 4);
    else break;
  }
  return { columns, rest: line.slice(i).trimEnd() };
}

/** `- `, `* `, `+ `, `1. ` or `1) ` markers, repeated for nested lists: a fence may open after them. */
function afterListMarkers(text: string): string {
  let rest = text;
  for (let depth = 0; depth < 10; depth++) {
    let i = 0;
    if (rest[0] === "-" || rest[0] === "*" || rest[0] === "+") i = 1;
    else {
      while (i < 9 && rest[i]! >= "0" && rest[i]! <= "9") i++;
      if (i === 0 || (rest[i] !== "." && rest[i] !== ")")) return rest;
      i++;
    }
    if (rest[i] !== " " && rest[i] !== "\t") return rest;
    rest = rest.slice(i).trimStart();
  }
  return rest;
}

function runOf(text: string, char: string): number {
  let n = 0;
  while (n < text.length && text[n] === char) n++;
  return n;
}

function opensFence(text: string, inList: boolean): Fence | null {
  const char = text[0];
  if (char !== "`" && char !== "~") return null;
  const length = runOf(text, char);
  if (length < 3) return null;
  // A backtick fence's info string can't hold a backtick: that line is inline code instead.
  if (char === "`" && text.includes("`", length)) return null;
  return { char, length, inList };
}

function closesFence(text: string, fence: Fence): boolean {
  const length = runOf(text, fence.char);
  return length >= fence.length && text.slice(length).trim().length === 0;
}

/** A command line's words, split on spaces and tabs. */
export function wordsOf(text: string): string[] {
  return text.split(" ").flatMap((w) => w.split("\t")).filter((w) => w.length > 0);
}

function asCommand(text: string): { noCache: boolean } | null {
  const words = wordsOf(text);
  if (words[0] !== "/rebuild") return null;
  if (words.length === 1) return { noCache: false };
  if (words.length === 2 && words[1] === "--no-cache") return { noCache: true };
  return null;
}

function isSetextUnderline(next: string | undefined): boolean {
  if (next === undefined) return false;
  const { columns, rest } = indentation(stripCr(next));
  if (columns > 3 || rest.length === 0) return false;
  const char = rest[0];
  return (char === "=" || char === "-") && runOf(rest, char) === rest.length;
}
