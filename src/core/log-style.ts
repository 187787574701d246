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
 * cleanLogText and the colours it drops, in one linear pass: a hand-written scanner finds the
 * escapes (no regex that could backtrack; each character is looked at most twice), and the text
 * between them loses its control characters to a one-character class. The text is exactly cleanLogText(raw): the same
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
  return { text: scan.text, runs: scan.runs };
}

// cleanLogText's: control characters other than tab and newline (one character each: linear).
const CONTROL = /[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f]/g;

/** A loop, not CONTROL.test: most pieces are a few plain characters, and a regex call costs more. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === 127) if (c !== 9 && c !== 10) return true;
  }
  return false;
}

class SgrScan {
  readonly raw: string;
  text = "";
  runs: SgrRun[] = [];
  private length = 0;
  style = 0;

  constructor(raw: string) {
    this.raw = raw;
  }

  /** Scans raw[from, to): escapes set the style, the rest is written when `emit`. */
  run(from: number, to: number, emit: boolean): void {
    for (let i = from; i < to; ) {
      let esc = this.raw.indexOf("\u001b", i);
      if (esc === -1 || esc > to) esc = to;
      if (emit) this.write(i, esc);
      if (esc === to) return;
      i = this.escape(esc, to);
    }
  }

  /** Writes raw[from, to), which holds no escape, in the current style; its control characters go. */
  private write(from: number, to: number): void {
    if (from >= to) return;
    const slice = this.raw.slice(from, to);
    const piece = hasControl(slice) ? slice.replace(CONTROL, "") : slice;
    const n = piece.length;
    if (n === 0) return;
    this.text += piece;
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

/** The style after `ESC[<params>m`. Codes it does not know are skipped, as a terminal does. */
export function applySgr(style: number, params: string): number {
  // Parsed by hand: this runs once per colour change of a whole build's output.
  const codes: number[] = [];
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= params.length; i++) {
    const c = i < params.length ? params.charCodeAt(i) : 59;
    if (c === 59) {
      codes.push(digits > 9 ? -1 : n);
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      n = n * 10 + c - 48;
      digits++;
    } else if (c === 58) {
      return applyColons(style, params);
    } else {
      return style; // `<`, `=`, `>` or `?`: a private function, not SGR
    }
  }
  let s = style;
  for (let k = 0; k < codes.length; k++) {
    const code = codes[k]!;
    if (code === 38 || code === 48) {
      const take = codes[k + 1] === 5 ? 2 : codes[k + 1] === 2 ? 4 : 1;
      s = extended(s, codes.slice(k, k + 1 + take));
      k += take;
    } else {
      s = basic(s, code);
    }
  }
  return s;
}

/** The rarer form with sub-parameters (`38:2::r:g:b`, `4:3`), one `;`-separated code at a time. */
function applyColons(style: number, params: string): number {
  let s = style;
  for (const p of params.split(";")) s = p.includes(":") ? extended(s, p.split(":").map(Number)) : basic(s, p === "" ? 0 : Number(p));
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
function extended(s: number, parts: number[]): number {
  const which = parts[0];
  if (which === 4) return (parts[1] ?? 1) === 0 ? s & ~8 : s | 8;
  if (which !== 38 && which !== 48) return s;
  const mode = parts[1];
  // `38:2::r:g:b` carries a colour space id before the three values: the last three are the colour.
  const values = mode === 5 ? parts.slice(2, 3) : mode === 2 && parts.length >= 5 ? parts.slice(-3) : [];
  const colour = nearestColour(mode ?? -1, values);
  if (colour < 0) return s;
  return which === 38 ? (s & ~FG) | ((colour + 1) << 4) : (s & ~BG) | ((colour + 1) << 9);
}
