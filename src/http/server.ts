import express, { type Express, type Request, type Response, type NextFunction } from "express";
import type { Store } from "../store/store.ts";
import type { HmacLinks } from "./links.ts";
import type { PrometheusMetrics } from "./metrics.ts";
import type { OpLog } from "../core/ports.ts";
import { renderBuildPage } from "./build-page.ts";

export type NodeMiddleware = (req: Request, res: Response, next: NextFunction) => unknown;

export interface HttpDeps {
  /** Probot's webhook middleware. It reads the raw body for the signature, so it goes first. */
  webhooks: NodeMiddleware;
  store: Store;
  links: HmacLinks;
  metrics: PrometheusMetrics;
  log: OpLog;
}

export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use((req, res, next) => void Promise.resolve(deps.webhooks(req, res, next)).catch(next));

  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok\n");
  });

  app.get("/readyz", async (_req, res) => {
    try {
      await deps.store.ping();
      res.type("text/plain").send("ready\n");
    } catch (err) {
      deps.log.error({ err }, "readiness check failed: store unreachable");
      res.status(503).type("text/plain").send("store unreachable\n");
    }
  });

  app.get("/metrics", async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  const guarded = async (req: Request, res: Response) => {
    const id = String(req.params.id);
    // Same answer for a wrong token and a missing build: the page must not confirm a build exists.
    if (!deps.links.verify(id, req.query.token)) return void res.status(404).type("text/plain").send("not found\n");
    const build = await deps.store.getBuild(id);
    if (!build) return void res.status(404).type("text/plain").send("not found\n");
    return { build, lines: await deps.store.readLog(id) };
  };

  app.get("/builds/:id", async (req, res) => {
    const found = await guarded(req, res);
    if (!found) return;
    res.set("cache-control", "no-store").type("text/html").send(renderBuildPage(found.build, found.lines, deps.links.detailsUrl(found.build.id)));
  });

  app.get("/builds/:id/log.txt", async (req, res) => {
    const found = await guarded(req, res);
    if (!found) return;
    res.set("cache-control", "no-store").type("text/plain; charset=utf-8").send(found.lines.map((l) => l.text).join("\n") + "\n");
  });

  app.use((_req, res) => {
    res.status(404).type("text/plain").send("not found\n");
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    deps.log.error({ err }, "request failed");
    if (!res.headersSent) res.status(500).type("text/plain").send("internal error\n");
  });
  return app;
}
