import type { LogLine, LogStream } from "./builder.ts";
import type { SgrRun } from "./log-style.ts";

/**
 * What a log line may hold, wherever it came from: terminal escapes and control characters go,
 * a progress bar keeps its last frame, and a line stops at MAX_LINE_CHARS with a marker saying
 * how much was dropped. Builders (LineSplitter) and the build log both apply it.
 */
// CSI, OSC and the two-byte escapes: everything a terminal would swallow.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
// Control characters other than tab, which GitHub renders as noise or rejects.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

export function cleanLogText(text: string): string {
  // A carriage return inside a line is a progress bar redrawing itself: keep the last frame.
  let lastFrame = text;
  if (text.includes("\r")) {
    let end = text.length;
    while (end > 0 && text.charCodeAt(end - 1) === 13) end--;
    lastFrame = text.slice(text.lastIndexOf("\r", end - 1) + 1, end);
  }
  return lastFrame.replace(ANSI, "").replace(CONTROL, "");
}

/** The longest line kept, in UTF-16 units; the rest of a longer line is counted and dropped. */
export const MAX_LINE_CHARS = 64 * 1024;

export const cutMarker = (bytes: number) => ` … [line cut: ${bytes} bytes]`;

/** Where to cut `text` to at most `max` units without splitting a surrogate pair. */
export function cutAt(text: string, max: number): number {
  if (text.length <= max) return text.length;
  const c = text.charCodeAt(max - 1);
  return c >= 0xd800 && c <= 0xdbff ? max - 1 : max;
}


/** Room for the marker, so a line that was cut once is never cut again further down. */
const MARKER_ROOM = 48;

/** Cuts a line longer than MAX_LINE_CHARS (and its marker), saying how much was dropped. */
export function cutLine(text: string): string {
  if (text.length <= MAX_LINE_CHARS + MARKER_ROOM) return text;
  const at = cutAt(text, MAX_LINE_CHARS);
  return text.slice(0, at) + cutMarker(Buffer.byteLength(text.slice(at)));
}

/**
 * A log line made on a hot path (one per line of build output). A class, not an object literal:
 * V8 pretenures a literal's allocation site once most of its objects outlive a young collection,
 * which a burst of thousands of buffered lines can cause. After that every line of the build was
 * born in the old generation, and a 1 GB log cost a full collection every 300 ms and about
 * 100 MiB more RSS. Instances of a class are never pretenured that way.
 */
export class OutputLine implements LogLine {
  ts: number;
  stream: LogStream;
  text: string;
  sgr: SgrRun[] | undefined;

  constructor(ts: number, stream: LogStream, text: string, sgr?: SgrRun[]) {
    this.ts = ts;
    this.stream = stream;
    this.text = text;
    // Set on every instance, so all lines share one shape; JSON leaves an undefined field out.
    this.sgr = sgr && sgr.length > 0 ? sgr : undefined;
  }
}

/** Runs cut to the first `length` units of their text (after the text was cut there). */
export function cutRuns(runs: SgrRun[] | undefined, length: number): SgrRun[] | undefined {
  if (!runs) return undefined;
  const kept: SgrRun[] = [];
  for (const [start, end, style] of runs) if (start < length) kept.push([start, Math.min(end, length), style]);
  return kept.length > 0 ? kept : undefined;
}
