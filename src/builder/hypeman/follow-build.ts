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
export async function followBuild(client: Hypeman, id: string, o: FollowOptions): Promise<Hypeman.Build> {
  let seen = 0;
  let refused = 0;
  let polledFinal: Hypeman.Build | null = null;

  const get = async (): Promise<Hypeman.Build | null> => {
    try {
      const b = await client.builds.get(id, { signal: o.signal, maxRetries: 1 });
      o.onStatus(b.status);
      return b;
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      if (isFatal(err)) throw err;
      return null;
    }
  };

  const stream = async (follow: boolean): Promise<{ end: StreamEnd; sawTerminal: boolean }> => {
    const ac = new AbortController();
    const stop = () => ac.abort();
    o.signal.addEventListener("abort", stop, { once: true });
    let idle: NodeJS.Timeout | undefined;
    let idleFired = false;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        idleFired = true;
        ac.abort();
      }, o.idleMs);
    };
    // Status events can be lost (the server drops them when a client is slow): check now and then.
    let checking = false;
    const checker = follow ? setInterval(() => {
      if (checking) return;
      checking = true;
      void get().then((b) => {
        if (b && TERMINAL.has(b.status)) {
          polledFinal = b;
          // A moment for the log's last lines, then stop waiting for a status that may never come.
          setTimeout(() => ac.abort(), Math.min(1000, o.pollMs)).unref();
        }
      }, () => {}).finally(() => (checking = false));
    }, o.pollMs) : undefined;
    let index = 0;
    let connected = false;
    let sawTerminal = false;
    try {
      arm();
      const events = await client.builds.events(id, { follow }, { signal: ac.signal, maxRetries: 0 });
      connected = true;
      arm();
      for await (const ev of events) {
        arm();
        if (ev.type === "log") {
          index++;
          if (index > seen) {
            seen = index;
            o.onLog(boundedLines(ev));
          }
        } else if (ev.type === "status" && ev.status) {
          o.onStatus(ev.status);
          if (TERMINAL.has(ev.status)) sawTerminal = true;
        }
      }
      if (o.signal.aborted) throw o.signal.reason;
      return { end: idleFired ? "dropped" : "ended", sawTerminal };
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      if (isFatal(err)) throw err;
      return { end: connected ? "dropped" : "refused", sawTerminal };
    } finally {
      clearTimeout(idle);
      clearInterval(checker);
      o.signal.removeEventListener("abort", stop);
    }
  };

  const finish = async (build: Hypeman.Build, complete: boolean): Promise<Hypeman.Build> => {
    if (!complete || seen === 0) {
      const rest = await stream(false);
      if (rest.end !== "ended") o.log?.warn({ build: id }, "the rest of the build log could not be fetched from the Hypeman server");
    }
    return build;
  };

  for (let attempt = 0; ; attempt++) {
    polledFinal = null;
    const { end, sawTerminal } = await stream(true);
    const final = polledFinal ?? (await get());
    if (final && TERMINAL.has(final.status)) return finish(final, end === "ended" && sawTerminal && !polledFinal);
    refused = end === "refused" ? refused + 1 : 0;
    if (refused > o.reconnects) {
      o.log?.warn({ build: id }, "the Hypeman event stream could not be reopened; polling the build's status instead");
      return finish(await poll(), false);
    }
    if (end !== "refused") o.log?.info({ build: id }, `the Hypeman event stream ${end === "dropped" ? "dropped" : "ended early"}; reconnecting`);
    await sleep(Math.min(o.backoffMs * 2 ** Math.min(attempt, 10), 30_000), o.signal);
  }

  async function poll(): Promise<Hypeman.Build> {
    for (;;) {
      const b = await get();
      if (b && TERMINAL.has(b.status)) return b;
      await sleep(o.pollMs, o.signal);
    }
  }
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
