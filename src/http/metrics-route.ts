import { createHash, timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";
import type { PrometheusMetrics } from "./metrics.ts";

/**
 * /metrics, behind `Authorization: Bearer <MICROSHIP_METRICS_TOKEN>` when a token is set.
 * Both sides are hashed first, so the comparison takes the same time whatever the length.
 */
export function metricsRoute(metrics: PrometheusMetrics, token: string | undefined) {
  const want = token ? digest(token) : null;
  return async (req: Request, res: Response): Promise<void> => {
    if (want) {
      const header = req.get("authorization") ?? "";
      const given = header.slice(0, 7).toLowerCase() === "bearer " ? header.slice(7).trim() : "";
      if (!timingSafeEqual(digest(given), want)) {
        res.status(401).set("www-authenticate", 'Bearer realm="metrics"').type("text/plain").send("unauthorized\n");
        return;
      }
    }
    res.set("cache-control", "no-store").type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

const digest = (s: string) => createHash("sha256").update(s).digest();
