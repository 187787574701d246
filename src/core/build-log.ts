import type { LogLine } from "../builder/builder.ts";
import type { Store } from "../store/store.ts";
import { redact } from "../log/redact.ts";

const TAIL_LINES = 2_000;
const FLUSH_LINES = 500;
const FLUSH_MS = 1_000;

/**
 * The user's build log: what the check run and the log page show. It is kept apart from the
 * operator log, scrubbed of secrets, persisted in batches, and its tail is kept for updates.
 */
export class BuildLog {
  private readonly store: Store;
  private readonly buildId: string;
  private readonly tailLines: LogLine[] = [];
  private pending: LogLine[] = [];
  private lastFlush = Date.now();
  private flushing: Promise<void> = Promise.resolve();
  private written = 0;

  constructor(store: Store, buildId: string) {
    this.store = store;
    this.buildId = buildId;
  }

  /** Lines written since the log was created: the throttled updater uses it to skip idle updates. */
  get count(): number {
    return this.written;
  }

  add(line: LogLine): void {
    const clean = { ...line, text: redact(line.text) };
    this.written++;
    this.tailLines.push(clean);
    if (this.tailLines.length > TAIL_LINES) this.tailLines.splice(0, this.tailLines.length - TAIL_LINES);
    this.pending.push(clean);
    if (this.pending.length >= FLUSH_LINES || Date.now() - this.lastFlush >= FLUSH_MS) void this.flush();
  }

  system(text: string): void {
    this.add({ ts: Date.now(), stream: "system", text });
  }

  tail(): LogLine[] {
    return [...this.tailLines];
  }

  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.lastFlush = Date.now();
    this.flushing = this.flushing.then(() => this.store.appendLog(this.buildId, batch));
    return this.flushing;
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
