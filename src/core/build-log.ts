import type { LogLine } from "./builder.ts";
import type { Store } from "./store.ts";
import { redact } from "./redact.ts";
import { MAX_LINE_CHARS, OutputLine, cutLine, cutRuns } from "./log-text.ts";

const TAIL_LINES = 2_000;
/** The tail feeds the check run (65,535 characters at most) and the failure annotations. */
const TAIL_CHARS = 1024 * 1024;
const FLUSH_LINES = 500;
const FLUSH_BYTES = 1024 * 1024;
/** Another replica's log page polls the store: a quiet build's lines reach it within this. */
const FLUSH_MS = 250;
/** What a stored line costs beyond its text: its JSON keys, timestamp and stream. */
const LINE_OVERHEAD = 48;
/** Room kept past the cap for microship's own lines, so the stored log still says how the build ended. */
const SYSTEM_RESERVE = 256 * 1024;

export const DEFAULT_LOG_MAX_BYTES = 50_000_000;

export interface BuildLogOptions {
  /** Bytes of log stored for one build (default 50 MB); past them one line says so and the rest is dropped. */
  maxBytes?: number;
  /** Told about the first batch that could not be stored; later failures of the same log are not repeated. */
  onError?: (err: unknown) => void;
}

/**
 * A line with its secrets scrubbed. A line redaction changed loses its colours: runs counted
 * over the secret would land past it, or outline where it was.
 */
function scrubbed(line: LogLine): LogLine {
  const text = redact(line.text);
  return new OutputLine(line.ts, line.stream, text, text === line.text ? line.sgr : undefined);
}

/** A class for the reason OutputLine is one: one is made per line of output. */
class TailEntry {
  line: LogLine;
  /** Scrubbed on the way to storage, or when the tail is first read after the cap. */
  clean: LogLine | null;

  constructor(line: LogLine, clean: LogLine | null) {
    this.line = line;
    this.clean = clean;
  }
}

/**
 * The user's build log: what the check run and the log page show. It is kept apart from the
 * operator log, scrubbed of secrets, persisted in batches, and its tail is kept for updates.
 *
 * A build's output is hostile, so everything here is bounded: lines are cut at 64 KiB, the tail
 * by lines and characters, batches by lines and bytes, and what one build stores by `maxBytes`.
 * Past that cap the build goes on and the tail keeps moving (the check run shows the end), but
 * nothing more is stored. A batch the store refuses is reported, never thrown: a rejected flush
 * nobody awaits would take the process down.
 */
export class BuildLog {
  private readonly store: Store;
  private readonly buildId: string;
  private readonly maxBytes: number;
  private readonly onError: ((err: unknown) => void) | undefined;
  private tailEntries: TailEntry[] = [];
  private tailHead = 0;
  private tailChars = 0;
  private pending: LogLine[] = [];
  private pendingBytes = 0;
  private stored = 0;
  private truncated = false;
  private failed = false;
  private lastFlush = Date.now();
  private flushing: Promise<void> = Promise.resolve();
  private written = 0;
  /** A quiet build's last lines are stored within FLUSH_MS too: the dashboard streams them live. */
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(store: Store, buildId: string, o: BuildLogOptions = {}) {
    this.store = store;
    this.buildId = buildId;
    this.maxBytes = o.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
    this.onError = o.onError;
  }

  /** Lines written since the log was created: the throttled updater uses it to skip idle updates. */
  get count(): number {
    return this.written;
  }

  add(line: LogLine): void {
    const text = cutLine(line.text);
    const raw = text === line.text ? line : new OutputLine(line.ts, line.stream, text, cutRuns(line.sgr, MAX_LINE_CHARS));
    this.written++;
    const entry = new TailEntry(raw, null);
    this.pushTail(entry);
    if (this.truncated && raw.stream !== "system") return;
    const size = Buffer.byteLength(raw.text) + LINE_OVERHEAD;
    const room = this.maxBytes + (raw.stream === "system" ? SYSTEM_RESERVE : 0) - this.stored;
    if (size > room) {
      if (!this.truncated) this.truncate();
      return;
    }
    entry.clean = scrubbed(raw);
    this.store1(entry.clean, size);
  }

  system(text: string): void {
    this.add({ ts: Date.now(), stream: "system", text });
  }

  tail(): LogLine[] {
    const out: LogLine[] = [];
    for (let i = this.tailHead; i < this.tailEntries.length; i++) {
      const e = this.tailEntries[i]!;
      e.clean ??= scrubbed(e.line);
      out.push(e.clean);
    }
    return out;
  }

  /** Stores what is pending. Never rejects: a failure goes to `onError`. */
  flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.lastFlush = Date.now();
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing
      .then(() => this.store.appendLog(this.buildId, batch))
      .catch((err: unknown) => this.report(err));
    return this.flushing;
  }

  private store1(line: LogLine, size: number): void {
    this.stored += size;
    this.pending.push(line);
    this.pendingBytes += size;
    if (this.pending.length >= FLUSH_LINES || this.pendingBytes >= FLUSH_BYTES || Date.now() - this.lastFlush >= FLUSH_MS) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  private truncate(): void {
    this.truncated = true;
    const mb = Math.round(this.maxBytes / 1_000_000);
    const note: LogLine = { ts: Date.now(), stream: "system", text: `log truncated at ${mb} MB; the build goes on` };
    this.pushTail(new TailEntry(note, note));
    this.store1(note, Buffer.byteLength(note.text) + LINE_OVERHEAD);
    void this.flush();
  }

  private pushTail(entry: TailEntry): void {
    this.tailEntries.push(entry);
    this.tailChars += entry.line.text.length;
    while (this.tailEntries.length - this.tailHead > TAIL_LINES || (this.tailChars > TAIL_CHARS && this.tailEntries.length - this.tailHead > 1)) {
      this.tailChars -= this.tailEntries[this.tailHead]!.line.text.length;
      this.tailEntries[this.tailHead++] = undefined as never;
    }
    // Compact now and then, so dropping the oldest line stays O(1) on average.
    if (this.tailHead > TAIL_LINES) {
      this.tailEntries = this.tailEntries.slice(this.tailHead);
      this.tailHead = 0;
    }
  }

  private report(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    try {
      this.onError?.(err);
    } catch {
      // The reporter of a failure must not become one.
    }
  }
}

/** Calls `update` at most once per `intervalMs`, and only when the log has grown. */
export class ThrottledUpdater {
  private readonly intervalMs: number;
  private readonly log: BuildLog;
  private readonly update: () => Promise<void>;
  private timer: NodeJS.Timeout | null = null;
  private lastCount = 0;
  private inFlight: Promise<void> | null = null;

  constructor(log: BuildLog, intervalMs: number, update: () => Promise<void>) {
    this.log = log;
    this.intervalMs = intervalMs;
    this.update = update;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.inFlight || this.log.count === this.lastCount) return;
    this.lastCount = this.log.count;
    this.inFlight = this.update()
      .catch(() => undefined)
      .finally(() => {
        this.inFlight = null;
      });
  }

  /** Stops the timer and waits for an update in flight, so the final report always comes last. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
  }
}
