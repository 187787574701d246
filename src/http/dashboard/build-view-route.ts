import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Express, NextFunction, Request, Response } from "express";
import type { BuildService } from "../../core/build-service.ts";
import type { OpLog } from "../../core/ports.ts";
import type { Store } from "../../core/store.ts";
import type { Access } from "./access.ts";
import { checkedForm } from "./form-body.ts";
import { LogCursor, shownLine, type ShownLine } from "./log-reader.ts";
import { clockOf, segments } from "./log-runs.ts";
import { renderMessage, renderPage } from "./views.ts";

/** What the page itself shows of a log; the rest streams in, or downloads. */
const PAGE_LOG_BYTES = 2 * 1024 * 1024;

export interface BuildViewDeps {
  store: Store;
  access: Access;
  service: Pick<BuildService, "rebuild" | "cancel">;
  log: OpLog;
  /** Downloads at once; each holds a page of the log while its reader is slow. */
  maxDownloads: number;
}

/** A check run's capability link (?exp&token) is the old log page's, unchanged. */
const capabilityLink = (req: Request) => req.query.token !== undefined || req.query.exp !== undefined;

export function addBuildView(app: Express, deps: BuildViewDeps): void {
  let downloads = 0;
  app.get("/builds/:id", (req, res, next) => void (capabilityLink(req) ? next() : page(deps, req, res).catch(next)));
  app.get("/builds/:id/download", (req, res, next) => {
    if (downloads >= deps.maxDownloads) return void res.status(503).set("retry-after", "10").type("text/plain").send("Too many downloads at once; try again in a moment.\n");
    downloads++;
    void download(deps, req, res).catch(next).finally(() => downloads--);
  });
  app.post("/builds/:id/rebuild", (req, res, next: NextFunction) => void act(deps, "rebuild", req, res).catch(next));
  app.post("/builds/:id/cancel", (req, res, next: NextFunction) => void act(deps, "cancel", req, res).catch(next));
}

async function page(deps: BuildViewDeps, req: Request, res: Response): Promise<void> {
  const session = deps.access.session(req, res);
  if (!session) return;
  const build = await deps.access.build(session, res, String(req.params.id));
  if (!build) return;
  const cursor = new LogCursor(deps.store, build.id, 0);
  const lines: ShownLine[] = [];
  let bytes = 0;
  for (let batch = await cursor.next(); batch.length > 0 && bytes < PAGE_LOG_BYTES; batch = bytes < PAGE_LOG_BYTES ? await cursor.next() : []) {
    for (const l of batch) (lines.push(shownLine(l)), (bytes += String(l.text).length + 16));
  }
  const cut = bytes >= PAGE_LOG_BYTES;
  const flash = req.query.done === "rebuild" ? "A new build was queued." : req.query.done === "cancel" ? "Cancelling: the build stops in a moment." : null;
  renderPage(res, "build", {
    title: `${build.request.owner}/${build.request.repo} ${build.request.sha.slice(0, 7)}`,
    session, build, lines, offset: cursor.offset, cut, flash, segments, clockOf,
    timestamps: req.query.timestamps === "1",
    canWrite: await deps.access.canWrite(session, build),
    script: "build-log.js",
  });
}

async function download(deps: BuildViewDeps, req: Request, res: Response): Promise<void> {
  const session = deps.access.session(req, res);
  if (!session) return;
  const build = await deps.access.build(session, res, String(req.params.id));
  if (!build) return;
  const cursor = new LogCursor(deps.store, build.id, 0);
  res.status(200).set({ "cache-control": "no-store", "content-disposition": `attachment; filename="build-${build.id.replace(/[^A-Za-z0-9_-]/g, "")}.log"` }).type("text/plain; charset=utf-8");
  async function* text() {
    for (let batch = await cursor.next(); batch.length > 0; batch = await cursor.next()) {
      yield batch.map((l) => `${shownLine(l).text}\n`).join("");
    }
  }
  await pipeline(Readable.from(text(), { highWaterMark: 1 }), res).catch((err) => {
    if ((err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") deps.log.warn({ err }, "downloading a build log failed");
  });
}

/** Rebuild and Cancel: the session's form (CSRF), then write access as GitHub says, then the service. */
async function act(deps: BuildViewDeps, action: "rebuild" | "cancel", req: Request, res: Response): Promise<void> {
  const session = deps.access.session(req, res);
  if (!session) return;
  if (!checkedForm(req, session)) return renderMessage(res, 403, session, "Refused", "The form was not this session's (its CSRF token did not match). Reload the page and try again.");
  const build = await deps.access.build(session, res, String(req.params.id));
  if (!build) return;
  if (!(await deps.access.canWrite(session, build))) {
    return renderMessage(res, 403, session, "Refused", `${action === "rebuild" ? "Rebuilding" : "Cancelling"} needs write access to ${build.request.owner}/${build.request.repo}, and GitHub says you have less.`);
  }
  if (action === "rebuild") {
    const result = await deps.service.rebuild(build, session.login);
    const target = result.kind === "created" || result.kind === "existing" ? result.build.id : build.id;
    deps.log.info({ buildId: build.id, login: session.login, result: result.kind }, "rebuild from the dashboard");
    return void res.redirect(303, `/builds/${encodeURIComponent(target)}?done=rebuild`);
  }
  const cancelled = await deps.service.cancel(build.id, session.login);
  deps.log.info({ buildId: build.id, login: session.login, stopped: Boolean(cancelled) }, "cancel from the dashboard");
  res.redirect(303, `/builds/${encodeURIComponent(build.id)}${cancelled ? "?done=cancel" : ""}`);
}
