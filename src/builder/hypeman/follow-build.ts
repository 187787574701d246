import type { Hypeman } from "@onkernel/hypeman";
import { apiFailure, apiStatus, type ApiContext } from "./api-failure.ts";

export const TERMINAL: ReadonlySet<string> = new Set(["ready", "failed", "cancelled"]);

export interface FollowOptions {
  client: Hypeman;
  id: string;
  /** Aborted with the typed error the build ends with (cancel, deadline). */
  signal: AbortSignal;
  api: ApiContext;
  onLog(content: string, timestamp: string): void;
  onStatus(status: Hypeman.BuildStatus, build?: Hypeman.Build): void;
  /** A line for the build log about the stream itself. */
  notice(text: string): void;
  /** A stream with no event for this long (heartbeats count) is taken for dead. */
  idleMs: number;
  /** First reconnect delay; doubled per attempt up to 30 s. */
  backoffMs: number;
  /** Failed reconnects in a row before falling back to polling. */
  reconnects: number;
  /** Polling interval, and how often the build's status is checked while following. */
  pollMs: number;
}

export interface Followed {
  /** The build in its final state, from `GET /builds/{id}`. */
  build: Hypeman.Build;
  logLines: number;
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
export async function followBuild(o: FollowOptions): Promise<Followed> {
  let seen = 0;
  let refused = 0;
  let polledFinal: Hypeman.Build | null = null;

  const get = async (): Promise<Hypeman.Build | null> => {
    try {
      const b = await o.client.builds.get(o.id, { signal: o.signal, maxRetries: 1 });
      o.onStatus(b.status, b);
      return b;
    } catch (err) {
      if (o.signal.aborted) throw o.signal.reason;
      if (isFatal(err)) throw apiFailure(err, "checking the build's status", o.api);
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
      const events = await o.client.builds.events(o.id, { follow }, { signal: ac.signal, maxRetries: 0 });
      connected = true;
      arm();
      for await (const ev of events) {
        arm();
        if (ev.type === "log") {
          index++;
          if (index > seen) {
            seen = index;
            o.onLog(ev.content ?? "", ev.timestamp);
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
      if (isFatal(err)) throw apiFailure(err, "following the build's events", o.api);
      return { end: connected ? "dropped" : "refused", sawTerminal };
    } finally {
      clearTimeout(idle);
      clearInterval(checker);
      o.signal.removeEventListener("abort", stop);
    }
  };

  const finish = async (build: Hypeman.Build, complete: boolean): Promise<Followed> => {
    if (!complete || seen === 0) {
      const rest = await stream(false);
      if (rest.end !== "ended") o.notice("The rest of the build log could not be fetched from the Hypeman server.");
    }
    return { build, logLines: seen };
  };

  for (let attempt = 0; ; attempt++) {
    polledFinal = null;
    const { end, sawTerminal } = await stream(true);
    const final = polledFinal ?? (await get());
    if (final && TERMINAL.has(final.status)) return finish(final, end === "ended" && sawTerminal && !polledFinal);
    refused = end === "refused" ? refused + 1 : 0;
    if (refused > o.reconnects) {
      o.notice(`The Hypeman event stream could not be reopened; polling the build's status every ${Math.round(o.pollMs / 100) / 10} s instead.`);
      return finish(await poll(), false);
    }
    if (end !== "refused") o.notice(`The Hypeman event stream ${end === "dropped" ? "dropped" : "ended early"}; reconnecting.`);
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

/** Answers that another try won't change. */
function isFatal(err: unknown): boolean {
  const s = apiStatus(err);
  return s === 401 || s === 403 || s === 404;
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
