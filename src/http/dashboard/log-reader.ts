import type { LogLine } from "../../core/builder.ts";
import { cleanLogText } from "../../core/log-text.ts";
import { redact } from "../../core/redact.ts";
import { checkedRuns, type ShownRun } from "./log-runs.ts";
import type { Store } from "../../core/store.ts";

const STREAMS = new Set(["stdout", "stderr", "system"]);
export const READ_BYTES = 64 * 1024;

export interface ShownLine {
  stream: string;
  text: string;
  ts: number;
  /** Checked colour runs; none when the line had none, or when reading changed its text. */
  runs: ShownRun[];
}

/**
 * What a page or an event shows of a line: redacted, then escapes and control characters gone.
 * The template escapes it. Its colours are kept only when that changed nothing: a secret
 * registered since the line was stored must not be outlined by runs counted over it.
 */
export function shownLine(l: LogLine): ShownLine {
  const stored = String(l.text);
  const text = cleanLogText(redact(stored));
  return { stream: STREAMS.has(l.stream) ? l.stream : "stdout", text, ts: Number(l.ts) || 0, runs: text === stored ? checkedRuns(l.sgr, text.length) : [] };
}

/**
 * Reads a build's log by line offset (what SSE's Last-Event-ID carries): `next()` gives the
 * lines after the last it gave, or [] when none are stored yet; it can be called again later
 * as the build writes more. Resuming at an offset reads the pages before it once.
 */
export class LogCursor {
  private readonly store: Store;
  private readonly id: string;
  private afterSeq = -1;
  private skip: number;
  /** Lines given so far, counting the skipped ones. */
  offset: number;

  constructor(store: Store, id: string, offset: number) {
    this.store = store;
    this.id = id;
    this.skip = offset;
    this.offset = offset;
  }

  async next(maxBytes = READ_BYTES): Promise<LogLine[]> {
    for (;;) {
      const page = await this.store.readLogPage(this.id, this.afterSeq, maxBytes);
      if (!page) return [];
      this.afterSeq = page.lastSeq;
      if (this.skip >= page.lines.length) {
        this.skip -= page.lines.length;
        continue;
      }
      const lines = page.lines.slice(this.skip);
      this.skip = 0;
      this.offset += lines.length;
      return lines;
    }
  }
}
