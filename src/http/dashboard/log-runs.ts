import { MAX_RUNS, MAX_STYLE } from "../../core/log-style.ts";

/** A run as the page gets it: [start, end, class names], the names only from the lists below. */
export type ShownRun = [start: number, end: number, classes: string];

const FLAGS = ["ansi-bold", "ansi-dim", "ansi-italic", "ansi-underline"];

/** The classes of a packed style (core/log-style.ts), or "" when it is not one that can be made. */
export function styleClasses(style: number): string {
  const fg = (style >> 4) & 0x1f;
  const bg = (style >> 9) & 0x1f;
  if (fg > 16 || bg > 16) return "";
  const names = FLAGS.filter((_, i) => style & (1 << i));
  if (fg > 0) names.push(`ansi-fg-${fg - 1}`);
  if (bg > 0) names.push(`ansi-bg-${bg - 1}`);
  return names.join(" ");
}

const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * A stored line's runs, checked as the untrusted input they are (a chunk could have been written
 * by anything that can write the store): an array of at most MAX_RUNS [start, end, style] in
 * order, not overlapping, within the text, each style a known one. Anything else and the line
 * is drawn plain: a run is never guessed at, and no class is made from stored text.
 */
export function checkedRuns(raw: unknown, length: number): ShownRun[] {
  if (raw === undefined || !Array.isArray(raw) || raw.length > MAX_RUNS) return [];
  const out: ShownRun[] = [];
  let last = 0;
  for (const run of raw as unknown[]) {
    if (!Array.isArray(run) || run.length !== 3) return [];
    const [start, end, style] = run as unknown[];
    if (!isIndex(start) || !isIndex(end) || !isIndex(style) || start < last || end <= start || end > length) return [];
    if (style === 0 || style > MAX_STYLE) return [];
    const classes = styleClasses(style);
    if (classes === "") return [];
    out.push([start, end, classes]);
    last = end;
  }
  return out;
}

export interface Segment {
  text: string;
  /** "" for plain text. */
  cls: string;
}

/** A line cut at its runs' edges, for the template: each piece is escaped text, coloured or not. */
export function segments(text: string, runs: ShownRun[]): Segment[] {
  if (runs.length === 0) return [{ text, cls: "" }];
  const out: Segment[] = [];
  let at = 0;
  for (const [start, end, cls] of runs) {
    if (start > at) out.push({ text: text.slice(at, start), cls: "" });
    out.push({ text: text.slice(start, end), cls });
    at = end;
  }
  if (at < text.length) out.push({ text: text.slice(at), cls: "" });
  return out;
}

/** A line's time as HH:MM:SS.mmm UTC, or "" for a time no Date can hold. */
export function clockOf(ts: number): string {
  return Number.isFinite(ts) && Math.abs(ts) <= 8.64e15 ? new Date(ts).toISOString().slice(11, 23) : "";
}
