import { StringDecoder } from "node:string_decoder";
import type { LogLine, LogStream } from "./builder.ts";

// CSI, OSC and the two-byte escapes: everything a terminal would swallow.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
// Control characters other than tab, which GitHub renders as noise or rejects.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

export function cleanLogText(text: string): string {
  // A carriage return inside a line is a progress bar redrawing itself: keep the last frame.
  const lastFrame = text.includes("\r") ? text.split("\r").filter((s) => s.length > 0).pop() ?? "" : text;
  return lastFrame.replace(ANSI, "").replace(CONTROL, "");
}

/**
 * Turns a byte stream into clean lines. Invalid UTF-8 becomes U+FFFD (StringDecoder does that,
 * and keeps a multi-byte character that straddles two chunks whole).
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";
  private readonly stream: LogStream;
  private readonly emit: (line: LogLine) => void;
  private readonly now: () => number;

  constructor(stream: LogStream, emit: (line: LogLine) => void, now: () => number = Date.now) {
    this.stream = stream;
    this.emit = emit;
    this.now = now;
  }

  write(chunk: Buffer | string): void {
    this.pending += typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    let nl = this.pending.indexOf("\n");
    while (nl !== -1) {
      this.push(this.pending.slice(0, nl));
      this.pending = this.pending.slice(nl + 1);
      nl = this.pending.indexOf("\n");
    }
  }

  end(): void {
    this.pending += this.decoder.end();
    if (this.pending.length > 0) this.push(this.pending);
    this.pending = "";
  }

  private push(raw: string): void {
    this.emit({ ts: this.now(), stream: this.stream, text: cleanLogText(raw) });
  }
}

/** A push-based async iterable: producers push lines, one consumer drains them. */
export class LogChannel implements AsyncIterable<LogLine> {
  private readonly buffer: LogLine[] = [];
  private waiting: ((r: IteratorResult<LogLine>) => void) | null = null;
  private closed = false;

  push(line: LogLine): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: line, done: false });
    } else {
      this.buffer.push(line);
    }
  }

  system(text: string): void {
    this.push({ ts: Date.now(), stream: "system", text });
  }

  close(): void {
    this.closed = true;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<LogLine> {
    return {
      next: () => {
        const line = this.buffer.shift();
        if (line) return Promise.resolve({ value: line, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
    };
  }
}
