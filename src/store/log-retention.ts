import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { OpLog } from "../core/ports.ts";
import type { Store } from "../core/store.ts";

const DAY_MS = 86_400_000;
/** Chunks per delete: a step stays short, so webhooks are answered while a big log goes. */
const STEP = 200;

export interface LogRetention {
  /** Deletes the logs now due; returns how many chunks went. */
  sweep(now?: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Deletes finished builds' logs `days` after they ended and were last written (a later deploy of
 * a build's image writes to its log): at start, then every `everyMs`.
 */
export function startLogRetention(o: { store: Store; days: number; log: OpLog; everyMs?: number }): LogRetention {
  let running: Promise<number> | null = null;
  let stopped = false;

  const sweep = (now: number = Date.now()): Promise<number> => {
    running ??= (async () => {
      let total = 0;
      try {
        for (;;) {
          const n = await o.store.deleteLogsBefore(now - o.days * DAY_MS, STEP);
          total += n;
          if (n < STEP || stopped) break;
          await yieldToLoop();
        }
        if (total > 0) o.log.info({ chunks: total, days: o.days }, `deleted the logs of builds that ended, and were last written, over ${o.days} days ago`);
      } catch (err) {
        o.log.error({ err }, "deleting old build logs failed; the next sweep tries again");
      }
      return total;
    })().finally(() => {
      running = null;
    });
    return running;
  };

  void sweep();
  const timer = setInterval(() => void sweep(), o.everyMs ?? 3_600_000);
  timer.unref();
  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
