import express, { type Express, type Request, type Response, type NextFunction } from "express";
import type { Store } from "../core/store.ts";
import type { HmacLinks } from "./links.ts";
import type { PrometheusMetrics } from "./metrics.ts";
import type { OpLog } from "../core/ports.ts";
import { addBuildRoutes } from "./build-routes.ts";
import { metricsRoute } from "./metrics-route.ts";
import { addHealthRoutes } from "./health-routes.ts";
import { securityHeaders } from "./security-headers.ts";
import { webhookBodyLimit } from "./webhook-body-limit.ts";
import { addDashboardRoutes, type DashboardDeps } from "./dashboard/dashboard-routes.ts";
import type { DeployProxy } from "../deploy/proxy/deploy-proxy.ts";

export type NodeMiddleware = (req: Request, res: Response, next: NextFunction) => unknown;

export interface HttpDeps {
  /** Probot's webhook middleware. It reads the raw body for the signature, so it goes first. */
  webhooks: NodeMiddleware;
  store: Store;
  links: HmacLinks;
  metrics: PrometheusMetrics;
  log: OpLog;
  logRetentionDays: number;
  /** False when /metrics has a listener of its own. */
  serveMetrics: boolean;
  metricsToken?: string;
  maxLogStreams?: number;
  /** The signed-in dashboard (off, with a page saying how to turn it on, when its `github` is null). */
  dashboard?: DashboardDeps;
  /** Deployment hosts (`{name}.{domain}`) go to their VMs, before any of microship's own routes. */
  deployProxy?: DeployProxy | null;
}

export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  if (deps.deployProxy) app.use(deps.deployProxy.handle);
  // main.ts's listen() attaches it to the server, for WebSocket upgrades.
  app.locals.deployProxy = deps.deployProxy ?? null;
  app.use(securityHeaders);
  // Bounds the body before Probot reads it; Probot then verifies exactly these bytes.
  app.use(webhookBodyLimit());
  app.use((req, res, next) => void Promise.resolve(deps.webhooks(req, res, next)).catch(next));

  addHealthRoutes(app, deps);
  if (deps.dashboard) addDashboardRoutes(app, deps.dashboard);
  addBuildRoutes(app, deps);
  finish(app, deps.log);
  return app;
}

/** /metrics alone, for MICROSHIP_METRICS_PORT. */
export function createMetricsApp(deps: Pick<HttpDeps, "metrics" | "metricsToken" | "log">): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(securityHeaders);
  app.get("/metrics", metricsRoute(deps.metrics, deps.metricsToken));
  finish(app, deps.log);
  return app;
}

function finish(app: Express, log: OpLog): void {
  app.use((_req, res) => {
    res.status(404).type("text/plain").send("not found\n");
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    log.error({ err }, "request failed");
    if (!res.headersSent) res.status(500).type("text/plain").send("internal error\n");
  });
}
