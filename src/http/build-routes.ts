import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Express, Request, Response } from "express";
import type { BuildRecord } from "../core/build.ts";
import type { LogLine } from "../core/builder.ts";
import type { OpLog } from "../core/ports.ts";
import type { Store } from "../core/store.ts";
import { redact } from "../core/redact.ts";
import { PAGE_END, pageHead, renderLogLines } from "./build-page.ts";
import type { HmacLinks } from "./links.ts";

/** Stored bytes read per step: each step holds the event loop for a moment, never for the log. */
const PAGE_BYTES = 256 * 1024;
const SLICE_BYTES = 64 * 1024;
/** What the HTML page shows at most: its tail. log.txt has it all. */
export const PAGE_TAIL_BYTES = 8 * 1024 * 1024;
const DAY_MS = 86_400_000;

export interface BuildRouteDeps {
  store: Store;
  links: HmacLinks;
  log: OpLog;
  logRetentionDays: number;
  /** Logs streamed at once; more wait with 503. Anyone who can see a public repo's checks holds a link. */
  maxLogStreams?: number;
}

function refuse(res: Response, status: number, message: string): null {
  res.status(status).set("cache-control", "no-store").type("text/plain").send(`${message}\n`);
  return null;
}

/** The build a link names, if the link is good and its log still kept; otherwise answers for it. */
async function openBuild(deps: BuildRouteDeps, req: Request, res: Response): Promise<{ build: BuildRecord; query: string } | null> {
  const id = String(req.params.id);
  const { exp, token } = req.query;
  const verdict = deps.links.check(id, exp, token);
  // The same answer for a forged token and a missing build: the page never confirms a build exists.
  if (verdict === "invalid") return refuse(res, 404, "not found");
  if (verdict === "expired") return refuse(res, 410, "This link has expired: log links last a limited time. A newer check run carries a fresh one.");
  const build = await deps.store.getBuild(id);
  if (!build) return refuse(res, 404, "not found");
  // A log past its build's retention may have been written since (a later deploy of its image):
  // it is gone only once the sweep has deleted it.
  if (build.completedAt !== null && build.completedAt < Date.now() - deps.logRetentionDays * DAY_MS && (await deps.store.logTail(id, 0)).totalBytes === 0) {
    return refuse(res, 410, `This build's log was deleted: logs are kept for ${deps.logRetentionDays} days after a build ends and after their last line.`);
  }
  return { build, query: `exp=${encodeURIComponent(String(exp))}&token=${encodeURIComponent(String(token))}` };
}

/** Streams a body with backpressure; each stream holds a page in memory while its reader is slow, so they are capped. */
function streamLimiter(deps: BuildRouteDeps) {
  const maxStreams = deps.maxLogStreams ?? 32;
  let streaming = 0;
  return async (res: Response, contentType: string, body: () => AsyncGenerator<string>) => {
    if (streaming >= maxStreams) {
      res.set("retry-after", "10");
      return void refuse(res, 503, "Too many logs are being read at once; try again in a moment.");
    }
    streaming++;
    res.status(200).set("cache-control", "no-store").type(contentType);
    try {
      await pipeline(Readable.from(body(), { highWaterMark: 1 }), res);
    } catch (err) {
      // A reader that goes away mid-log is normal; anything else is worth a line.
      if ((err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") deps.log.warn({ err }, "streaming a build log failed");
    } finally {
      streaming--;
    }
  };
}

/**
 * The log page and log.txt behind a check run's details link. Both stream from the store in
 * pages, with backpressure, so a log of any size costs a page of memory.
 */
export function addBuildRoutes(app: Express, deps: BuildRouteDeps): void {
  const stream = streamLimiter(deps);
  app.get("/builds/:id", async (req, res) => {
    const found = await openBuild(deps, req, res);
    if (!found) return;
    const { build, query } = found;
    const base = `/builds/${encodeURIComponent(build.id)}`;
    const tail = await deps.store.logTail(build.id, PAGE_TAIL_BYTES);
    const head = pageHead(build, { selfUrl: `${base}?${query}`, logUrl: `${base}/log.txt?${query}`, ...tail });
    await stream(res, "text/html; charset=utf-8", async function* () {
      yield head;
      yield* rendered(pages(deps.store, build.id, tail.afterSeq), renderLogLines);
      yield PAGE_END;
    });
  });

  app.get("/builds/:id/log.txt", async (req, res) => {
    const found = await openBuild(deps, req, res);
    if (!found) return;
    await stream(res, "text/plain; charset=utf-8", async function* () {
      yield* rendered(pages(deps.store, found.build.id, -1), plainLines);
    });
  });
}

const plainLines = (lines: LogLine[]) => lines.map((l) => `${redact(String(l.text))}\n`).join("");

/**
 * The log's text in pieces of about 64 KiB, with a turn of the event loop after each: the store
 * answers at once and a fast reader never pushes back, so without the turns a whole log would go
 * out in one task and nothing else would be served meanwhile. Small pieces also die young in V8,
 * where one string per page would pile up until a full collection and swell the RSS.
 */
async function* rendered(pages: AsyncIterable<LogLine[]>, render: (lines: LogLine[]) => string): AsyncGenerator<string> {
  for await (const lines of pages) {
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < lines.length; i++) {
      bytes += String(lines[i]!.text).length + 64;
      if (bytes >= SLICE_BYTES || i === lines.length - 1) {
        yield render(lines.slice(start, i + 1));
        await nextTurn();
        start = i + 1;
        bytes = 0;
      }
    }
  }
}

async function* pages(store: Store, id: string, afterSeq: number): AsyncGenerator<LogLine[]> {
  for (let page = await store.readLogPage(id, afterSeq, PAGE_BYTES); page; page = await store.readLogPage(id, page.lastSeq, PAGE_BYTES)) {
    yield page.lines;
  }
}
