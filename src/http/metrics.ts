import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Metrics } from "../core/ports.ts";
import type { Conclusion } from "../core/types.ts";
import type { Store } from "../core/store.ts";
import type { Queue } from "../core/queue.ts";

export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly deliveries: Counter;
  private readonly builds: Counter;
  private readonly phases: Histogram;

  constructor(store: Store, queue: Queue) {
    collectDefaultMetrics({ register: this.registry, prefix: "microship_process_" });
    this.deliveries = new Counter({ name: "microship_webhook_deliveries_total", help: "Webhook deliveries that reached a handler, by event and outcome", labelNames: ["event", "outcome"], registers: [this.registry] });
    this.builds = new Counter({ name: "microship_builds_completed_total", help: "Finished builds by conclusion", labelNames: ["conclusion"], registers: [this.registry] });
    this.phases = new Histogram({ name: "microship_phase_duration_seconds", help: "Time spent per build phase", labelNames: ["phase"], buckets: [0.1, 0.5, 1, 5, 15, 60, 180, 600, 1800], registers: [this.registry] });
    new Gauge({
      name: "microship_builds", help: "Builds by state", labelNames: ["state"], registers: [this.registry],
      async collect() {
        const counts = await store.countByState();
        for (const state of ["queued", "running", "completed"]) this.set({ state }, counts[state] ?? 0);
      },
    });
    new Gauge({
      name: "microship_queue_depth", help: "Builds waiting for a worker", registers: [this.registry],
      async collect() {
        this.set(await queue.depth());
      },
    });
  }

  delivery(event: string, outcome: string): void {
    this.deliveries.inc({ event, outcome });
  }

  buildFinished(conclusion: Conclusion): void {
    this.builds.inc({ conclusion });
  }

  phase(phase: string, ms: number): void {
    this.phases.observe({ phase }, ms / 1000);
  }
}
