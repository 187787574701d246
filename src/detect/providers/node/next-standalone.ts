import type { DetectContext } from "../../context.ts";

export const NEXT_CONFIGS = ["next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs", "next.config.mts"];
/** A next.config is a few dozen lines; past this there is nothing detection should look at. */
export const NEXT_CONFIG_SCAN_BYTES = 256 * 1024;

/**
 * The next.config file that sets `output: "standalone"`, or null. Next reads the first of
 * these names it finds, so only that one counts. The file is code and not run here: it is
 * scanned as text, with comments and strings told apart so `// output: "standalone"` doesn't
 * count. A value computed at run time (`output: process.env.X`) is not seen, and then the
 * app is built and run the ordinary way, which still works.
 */
export async function nextStandaloneConfig(ctx: DetectContext, pkg: Record<string, any>): Promise<string | null> {
  if (!Object.hasOwn(pkg.dependencies ?? {}, "next") && !Object.hasOwn(pkg.devDependencies ?? {}, "next")) return null;
  for (const file of NEXT_CONFIGS) {
    const text = await ctx.read(file);
    if (text !== null) return setsStandaloneOutput(text.slice(0, NEXT_CONFIG_SCAN_BYTES)) ? file : null;
  }
  return null;
}

type Token = { kind: "name" | "string" | "punct"; text: string };

/** Whether the tokens `output` `:` `"standalone"` appear in code (not in a comment). One pass, no regex. */
export function setsStandaloneOutput(text: string): boolean {
  const last: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const two = text.slice(i, i + 2);
    let token: Token | null = null;
    if (two === "//") i = skipTo(text, "\n", i + 2);
    else if (two === "/*") i = skipTo(text, "*/", i + 2);
    else if (c === '"' || c === "'" || c === "`") {
      const end = stringEnd(text, i + 1, c);
      // An unterminated string is no value at all.
      if (end < text.length) token = { kind: "string", text: text.slice(i + 1, end) };
      i = end + 1;
    } else if (isNameChar(c)) {
      let end = i + 1;
      while (end < text.length && isNameChar(text[end]!)) end++;
      token = { kind: "name", text: text.slice(i, end) };
      i = end;
    } else {
      if (c.trim() !== "") token = { kind: "punct", text: c };
      i++;
    }
    if (!token) continue;
    last.push(token);
    if (last.length > 3) last.shift();
    const [key, colon, value] = last;
    if (value?.kind === "string" && value.text === "standalone" && colon?.text === ":" && key?.text === "output" && key.kind !== "punct") return true;
  }
  return false;
}

function skipTo(text: string, end: string, from: number): number {
  const at = text.indexOf(end, from);
  return at < 0 ? text.length : at + end.length;
}

/** Index of the closing quote, past backslash escapes; the end of the text when it never closes. */
function stringEnd(text: string, from: number, quote: string): number {
  let i = from;
  while (i < text.length && text[i] !== quote) i += text[i] === "\\" ? 2 : 1;
  return Math.min(i, text.length);
}

function isNameChar(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c === "_" || c === "$";
}
