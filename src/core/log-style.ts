import { cleanLogText } from "./log-text.ts";
import { nearestColour } from "./sgr-colour.ts";

/**
 * A line's terminal colours, kept beside its clean text rather than in it: `text` stays what
 * cleanLogText makes (check runs, GitHub, scrubbing and downloads never see an escape), and the
 * dashboard alone draws the runs. A run is [start, end, style] over the clean text's UTF-16
 * offsets; `style` packs bold (1), dim (2), italic (4), underline (8), the foreground colour
 * plus one in bits 4-8 and the background colour plus one in bits 9-13 (0 = the default).
 */
export type SgrRun = [start: number, end: number, style: number];

export interface StyledText {
  text: string;
  runs: SgrRun[];
}

/** Runs kept per line: past them the rest of the line is drawn plain. */
export const MAX_RUNS = 64;
export const MAX_STYLE = (1 << 14) - 1;
const FG = 0x1f << 4;
const BG = 0x1f << 9;

/**
 * cleanLogText and the colours it drops, in one linear pass (no regex: a hand-written scanner
 * looks at each character at most twice). The text is exactly cleanLogText(raw): the same
 * escapes go, a carriage return keeps the last frame, and the earlier frames only set the style
 * the last one starts with, as on a terminal.
 */
export function styledLogText(raw: string): StyledText {
  if (!raw.includes("\u001b")) return { text: cleanLogText(raw), runs: [] };
  let from = 0;
  let end = raw.length;
  if (raw.includes("\r")) {
    while (end > 0 && raw.charCodeAt(end - 1) === 13) end--;
    from = Math.min(raw.lastIndexOf("\r", end - 1) + 1, end);
  }
  const scan = new SgrScan(raw);
  scan.run(0, from, false);
  scan.run(from, end, true);
  return { text: scan.out.join(""), runs: scan.runs };
}

const isControl = (c: number) => c <= 8 || (c >= 11 && c <= 31) || c === 127;

class SgrScan {
  readonly raw: string;
  out: string[] = [];
  runs: SgrRun[] = [];
  private length = 0;
  style = 0;

  constructor(raw: string) {
    this.raw = raw;
  }

  /** Scans raw[from, to): escapes set the style, the rest is written when `emit`. */
  run(from: number, to: number, emit: boolean): void {
    const raw = this.raw;
    let kept = from;
    for (let i = from; i < to; ) {
      const c = raw.charCodeAt(i);
      if (c !== 27 && !isControl(c)) {
        i++;
        continue;
      }
      if (emit) this.write(kept, i);
      i = c === 27 ? this.escape(i, to) : i + 1;
      kept = i;
    }
    if (emit) this.write(kept, to);
  }

  private write(from: number, to: number): void {
    if (from >= to) return;
    const n = to - from;
    this.out.push(this.raw.slice(from, to));
    const last = this.runs[this.runs.length - 1];
    if (this.style !== 0) {
      if (last && last[1] === this.length && last[2] === this.style) last[1] += n;
      else if (this.runs.length < MAX_RUNS) this.runs.push([this.length, this.length + n, this.style]);
    }
    this.length += n;
  }

  /** Where the escape at `i` ends, as cleanLogText's ANSI pattern would match it (CSI, OSC, two bytes). */
  private escape(i: number, to: number): number {
    const raw = this.raw;
    const next = i + 1 < to ? raw.charCodeAt(i + 1) : -1;
    if (next === 0x5b) {
      let j = i + 2;
      while (j < to && raw.charCodeAt(j) >= 0x30 && raw.charCodeAt(j) <= 0x3f) j++;
      const params = j;
      while (j < to && raw.charCodeAt(j) >= 0x20 && raw.charCodeAt(j) <= 0x2f) j++;
      const final = j < to ? raw.charCodeAt(j) : -1;
      if (final >= 0x40 && final <= 0x7e) {
        if (final === 0x6d && params === j) this.style = applySgr(this.style, raw.slice(i + 2, params));
        return j + 1;
      }
      return i + 1;
    }
    if (next === 0x5d) {
      let j = i + 2;
      while (j < to && raw.charCodeAt(j) !== 7 && raw.charCodeAt(j) !== 27) j++;
      if (j < to && raw.charCodeAt(j) === 7) return j + 1;
      if (j + 1 < to && raw.charCodeAt(j + 1) === 0x5c) return j + 2;
    }
    if ((next >= 0x40 && next <= 0x5a) || (next >= 0x5c && next <= 0x5f)) return i + 2;
    return i + 1;
  }
}

const PLAIN_PARAMS = /^[0-9;:]*$/;

/** The style after `ESC[<params>m`. Codes it does not know are skipped, as a terminal does. */
export function applySgr(style: number, params: string): number {
  if (!PLAIN_PARAMS.test(params)) return style;
  const codes = params.split(";");
  let s = style;
  for (let k = 0; k < codes.length; k++) {
    const p = codes[k]!;
    if (p.includes(":")) {
      s = extended(s, p.split(":"));
      continue;
    }
    const n = p === "" ? 0 : Number(p);
    if (n === 38 || n === 48) {
      const mode = Number(codes[k + 1]);
      const take = mode === 5 ? 2 : mode === 2 ? 4 : 1;
      s = extended(s, codes.slice(k, k + 1 + take));
      k += take;
      continue;
    }
    s = basic(s, n);
  }
  return s;
}

function basic(s: number, n: number): number {
  if (n === 0) return 0;
  if (n >= 1 && n <= 4) return s | (1 << (n - 1));
  if (n === 22) return s & ~3;
  if (n === 23) return s & ~4;
  if (n === 24) return s & ~8;
  if (n >= 30 && n <= 37) return (s & ~FG) | ((n - 30 + 1) << 4);
  if (n >= 90 && n <= 97) return (s & ~FG) | ((n - 90 + 9) << 4);
  if (n === 39) return s & ~FG;
  if (n >= 40 && n <= 47) return (s & ~BG) | ((n - 40 + 1) << 9);
  if (n >= 100 && n <= 107) return (s & ~BG) | ((n - 100 + 9) << 9);
  if (n === 49) return s & ~BG;
  return s;
}

/** 38/48 with `5;n` (256 colours) or `2;r;g;b` (true colour), either separator: the nearest of the 16. */
function extended(s: number, parts: string[]): number {
  const which = Number(parts[0]);
  if (which === 4) return Number(parts[1] ?? 1) === 0 ? s & ~8 : s | 8;
  if (which !== 38 && which !== 48) return s;
  const mode = Number(parts[1]);
  // `38:2::r:g:b` carries a colour space id before the three values: the last three are the colour.
  const values = mode === 5 ? parts.slice(2, 3) : mode === 2 && parts.length >= 5 ? parts.slice(-3) : [];
  const colour = nearestColour(mode, values.map((v) => Number(v)));
  if (colour < 0) return s;
  return which === 38 ? (s & ~FG) | ((colour + 1) << 4) : (s & ~BG) | ((colour + 1) << 9);
}
