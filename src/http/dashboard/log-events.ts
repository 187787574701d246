import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Express, Request, Response } from "express";
import type { OpLog } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";
import type { Access } from "./access.ts";
import { LogCursor, shownLine } from "./log-reader.ts";
import { stateOf } from "./format.ts";

const POLL_MS = 500;
const HEARTBEAT_MS = 15_000;
/** A stream ends after this; the browser reconnects with Last-Event-ID and loses nothing. */
const STREAM_MS = 10 * 60_000;
const OFFSET = /^[0-9]{1,12}$/;

export interface LogEventDeps {
  store: Store;
  access: Access;
  log: OpLog;
  maxStreams: number;
}

/** Where to resume: Last-Event-ID (a reconnect) over ?from= (the page's first connect). */
function startOffset(req: Request): number {
  const header = req.headers["last-event-id"];
  const from = typeof header === "string" && OFFSET.test(header) ? header : req.query.from;
  return typeof from === "string" && OFFSET.test(from) ? Number(from) : 0;
}

/**
 * The log as Server-Sent Events while the build runs: `lines` events (a JSON array, its id the
 * line offset after it), `state` events as the build moves on (queued, running, cancelling), then
 * one `end` event when the build has ended and every line is out.
 */
export function addLogEvents(app: Express, deps: LogEventDeps): void {
  let open = 0;
  app.get("/builds/:id/events", async (req, res) => {
    const session = deps.access.session(req, res);
    if (!session) return;
    const build = await deps.access.build(session, res, String(req.params.id));
    if (!build) return;
    if (open >= deps.maxStreams) return void res.status(503).set("retry-after", "10").type("text/plain").send("Too many live logs at once.\n");
    open++;
    try {
      await stream(deps, build.id, startOffset(req), res);
    } catch (err) {
      if (!res.destroyed) deps.log.warn({ err }, "streaming a live log failed");
    } finally {
      open--;
      res.end();
    }
  });
}

async function stream(deps: LogEventDeps, id: string, offset: number, res: Response): Promise<void> {
  res.status(200).set({ "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
  res.flushHeaders();
  const gone = new AbortController();
  res.on("close", () => gone.abort());
  const cursor = new LogCursor(deps.store, id, offset);
  const until = Date.now() + STREAM_MS;
  let quietSince = Date.now();
  let ended: { state: string; conclusion: string | null } | null = null;
  let shownState = "";
  res.write("retry: 2000\n\n");
  while (!gone.signal.aborted && Date.now() < until) {
    const lines = await cursor.next();
    if (lines.length > 0) {
      const event = `event: lines\nid: ${cursor.offset}\ndata: ${JSON.stringify(lines.map(shownLine))}\n\n`;
      if (!res.write(event) && !res.destroyed) await Promise.race([once(res, "drain"), once(res, "close")]);
      quietSince = Date.now();
      continue;
    }
    if (ended) {
      res.write(`event: end\nid: ${cursor.offset}\ndata: ${JSON.stringify(ended)}\n\n`);
      return;
    }
    const build = await deps.store.getBuild(id);
    if (build && stateOf(build) !== shownState) {
      shownState = stateOf(build);
      res.write(`event: state\ndata: ${JSON.stringify({ state: shownState })}\n\n`);
    }
    // Lines are stored before a build ends: once it has, one more empty read is the end.
    if (!build || build.state === "completed") {
      ended = { state: build?.state ?? "gone", conclusion: build?.conclusion ?? null };
      continue;
    }
    if (Date.now() - quietSince > HEARTBEAT_MS) (res.write(": still running\n\n"), (quietSince = Date.now()));
    await sleep(POLL_MS, undefined, { signal: gone.signal }).catch(() => {});
  }
}
