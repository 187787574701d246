import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { OpLog } from "../core/ports.ts";
import type { Store } from "../core/store.ts";
import type { PrometheusMetrics } from "./metrics.ts";
import { addHealthRoutes } from "./health-routes.ts";
import { securityHeaders } from "./security-headers.ts";

export interface WorkerAppDeps {
  store: Store;
  metrics: PrometheusMetrics;
  log: OpLog;
  /** False when /metrics has a listener of its own. */
  serveMetrics: boolean;
  metricsToken?: string;
}

/**
 * A worker replica's port (MICROSHIP_ROLE=worker): health, readiness and metrics for its
 * orchestrator, and nothing else. No webhook is taken here and no page is shown, so a
 * load balancer that sends it a delivery by mistake gets a 404 and GitHub redelivers.
 */
export function createWorkerApp(deps: WorkerAppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(securityHeaders);
  addHealthRoutes(app, deps);
  app.use((_req, res) => void res.status(404).type("text/plain").send("not found: this replica only builds (MICROSHIP_ROLE=worker)\n"));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    deps.log.error({ err }, "request failed");
    if (!res.headersSent) res.status(500).type("text/plain").send("internal error\n");
  });
  return app;
}
