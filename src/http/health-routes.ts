import type { Express } from "express";
import type { OpLog } from "../core/ports.ts";
import type { Store } from "../core/store.ts";
import type { PrometheusMetrics } from "./metrics.ts";
import { metricsRoute } from "./metrics-route.ts";

/** What every replica's port answers its orchestrator, whatever its role: liveness, readiness (the store answers) and, unless apart, /metrics. */
export function addHealthRoutes(app: Express, deps: { store: Store; log: OpLog; metrics: PrometheusMetrics; serveMetrics: boolean; metricsToken?: string }): void {
  app.get("/healthz", (_req, res) => void res.type("text/plain").send("ok\n"));
  app.get("/readyz", async (_req, res) => {
    try {
      await deps.store.ping();
      res.type("text/plain").send("ready\n");
    } catch (err) {
      deps.log.error({ err }, "readiness check failed: store unreachable");
      res.status(503).type("text/plain").send("store unreachable\n");
    }
  });
  if (deps.serveMetrics) app.get("/metrics", metricsRoute(deps.metrics, deps.metricsToken));
}
