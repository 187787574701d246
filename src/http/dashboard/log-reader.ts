import type { LogLine } from "../../core/builder.ts";
import { cleanLogText } from "../../core/log-text.ts";
import { redact } from "../../core/redact.ts";
import type { Store } from "../../core/store.ts";

const STREAMS = new Set(["stdout", "stderr", "system"]);
export const READ_BYTES = 64 * 1024;

export interface ShownLine {
  stream: string;
  text: string;
  ts: number;
}

/** What a page or an event shows of a line: redacted, then escapes and control characters gone. The template escapes it. */
export function shownLine(l: LogLine): ShownLine {
  return { stream: STREAMS.has(l.stream) ? l.stream : "stdout", text: cleanLogText(redact(String(l.text))), ts: Number(l.ts) || 0 };
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
