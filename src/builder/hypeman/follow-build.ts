import { APIError, type Hypeman } from "@onkernel/hypeman";
import type { OpLog } from "../../core/ports.ts";
import { MAX_LINE_CHARS, cutLine } from "../../core/log-text.ts";

export const TERMINAL: ReadonlySet<string> = new Set(["ready", "failed", "cancelled"]);

export interface FollowOptions {
  /** Aborted with the typed error the build ends with (cancel, deadline). */
  signal: AbortSignal;
  log?: OpLog;
  onLog(event: Hypeman.BuildEvent): void;
  onStatus(status: Hypeman.BuildStatus): void;
  /** A stream with no event for this long (heartbeats count) is taken for dead. */
  idleMs: number;
  /** First reconnect delay; doubled per attempt up to 30 s. */
  backoffMs: number;
  /** Failed reconnects in a row before falling back to polling. */
  reconnects: number;
  /** Polling interval, and how often the build's status is checked while following. */
  pollMs: number;
}

type StreamEnd = "ended" | "dropped" | "refused";

/**
 * Follows a build to its end through `GET /builds/{id}/events?follow=true`, and never loses
 * the final status: a stream that drops is reconnected with backoff, repeated failures fall back
 * to polling `GET /builds/{id}`, and the build's state always comes from a final GET.
 *
 * Every connection replays the log from its first line, so lines are counted in the server's
 * order and only those past the count are passed on: a reconnect repeats no line. When the
 * stream did not carry the whole log (older servers send it only at the end; a dropped stream
 * misses some), the log is fetched once more with `follow=false`, past the same count.
 */
export function followBuild(client: Hypeman, id: string, o: FollowOptions): Promise<Hypeman.Build> {
  return new BuildFollower(client, id, o).follow();
}

class BuildFollower {
  private readonly client: Hypeman;
  private readonly id: string;
  private readonly o: FollowOptions;
  /** Log events passed on so far, in the server's order. */
  private seen = 0;
  /** A terminal build the status check found while a stream was open. */
  private polledFinal: Hypeman.Build | null = null;

  constructor(client: Hypeman, id: string, o: FollowOptions) {
    this.client = client;
    this.id = id;
    this.o = o;
  }

  async follow(): Promise<Hypeman.Build> {
    let refused = 0;
    for (let attempt = 0; ; attempt++) {
      this.polledFinal = null;
      const { end, sawTerminal } = await this.stream(true);
      const final = this.polledFinal ?? (await this.get());
      if (final && TERMINAL.has(final.status)) return this.finish(final, end === "ended" && sawTerminal && !this.polledFinal);
      refused = end === "refused" ? refused + 1 : 0;
      if (refused > this.o.reconnects) {
        this.o.log?.warn({ build: this.id }, "the Hypeman event stream could not be reopened; polling the build's status instead");
        return this.finish(await this.poll(), false);
      }
      if (end !== "refused") this.o.log?.info({ build: this.id }, `the Hypeman event stream ${end === "dropped" ? "dropped" : "ended early"}; reconnecting`);
      await sleep(Math.min(this.o.backoffMs * 2 ** Math.min(attempt, 10), 30_000), this.o.signal);
    }
  }

  private async get(): Promise<Hypeman.Build | null> {
    try {
      const b = await this.client.builds.get(this.id, { signal: this.o.signal, maxRetries: 1 });
      this.o.onStatus(b.status);
      return b;
    } catch (err) {
      if (this.o.signal.aborted) throw this.o.signal.reason;
      if (isFatal(err)) throw err;
      return null;
    }
  }

  private async stream(follow: boolean): Promise<{ end: StreamEnd; sawTerminal: boolean }> {
    const ac = new AbortController();
    const stop = () => ac.abort();
    this.o.signal.addEventListener("abort", stop, { once: true });
    const idle = idleTimer(this.o.idleMs, () => ac.abort());
    const checker = follow ? this.checkStatus(ac) : undefined;
    let index = 0;
    let connected = false;
    let sawTerminal = false;
    try {
      idle.arm();
      const events = await this.client.builds.events(this.id, { follow }, { signal: ac.signal, maxRetries: 0 });
      connected = true;
      idle.arm();
      for await (const ev of events) {
        idle.arm();
        if (ev.type === "log" && ++index > this.seen) {
          this.seen = index;
          this.o.onLog(boundedLines(ev));
        } else if (ev.type === "status" && ev.status) {
          this.o.onStatus(ev.status);
          if (TERMINAL.has(ev.status)) sawTerminal = true;
        }
      }
      if (this.o.signal.aborted) throw this.o.signal.reason;
      return { end: idle.fired() ? "dropped" : "ended", sawTerminal };
    } catch (err) {
      if (this.o.signal.aborted) throw this.o.signal.reason;
      if (isFatal(err)) throw err;
      return { end: connected ? "dropped" : "refused", sawTerminal };
    } finally {
      idle.clear();
      clearInterval(checker);
      this.o.signal.removeEventListener("abort", stop);
    }
  }

  /** Status events can be lost (the server drops them when a client is slow): check now and then. */
  private checkStatus(ac: AbortController): NodeJS.Timeout {
    let checking = false;
    return setInterval(() => {
      if (checking) return;
      checking = true;
      void this.get().then((b) => {
        if (b && TERMINAL.has(b.status)) {
          this.polledFinal = b;
          // A moment for the log's last lines, then stop waiting for a status that may never come.
          setTimeout(() => ac.abort(), Math.min(1000, this.o.pollMs)).unref();
        }
      }, () => {}).finally(() => (checking = false));
    }, this.o.pollMs);
  }

  private async finish(build: Hypeman.Build, complete: boolean): Promise<Hypeman.Build> {
    if (!complete || this.seen === 0) {
      const rest = await this.stream(false);
      if (rest.end !== "ended") this.o.log?.warn({ build: this.id }, "the rest of the build log could not be fetched from the Hypeman server");
    }
    return build;
  }

  private async poll(): Promise<Hypeman.Build> {
    for (;;) {
      const b = await this.get();
      if (b && TERMINAL.has(b.status)) return b;
      await sleep(this.o.pollMs, this.o.signal);
    }
  }
}

/** A stream with no event for `ms` is taken for dead: `arm` on every event. */
function idleTimer(ms: number, onIdle: () => void): { arm(): void; clear(): void; fired(): boolean } {
  let timer: NodeJS.Timeout | undefined;
  let fired = false;
  return {
    arm() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        fired = true;
        onIdle();
      }, ms);
    },
    clear: () => clearTimeout(timer),
    fired: () => fired,
  };
}

/**
 * An event's lines, each cut at MAX_LINE_CHARS: the server relays the build's output as it
 * came, and one line of it can be as long as the build likes.
 */
function boundedLines(ev: Hypeman.BuildEvent): Hypeman.BuildEvent {
  const content = ev.content;
  if (!content || content.length <= MAX_LINE_CHARS) return ev;
  return { ...ev, content: content.split("\n").map(cutLine).join("\n") };
}

/** Answers that another try won't change; the caller maps them to typed errors. */
function isFatal(err: unknown): boolean {
  return err instanceof APIError && (err.status === 401 || err.status === 403 || err.status === 404);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
