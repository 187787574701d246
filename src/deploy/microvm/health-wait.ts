import { setTimeout as sleep } from "node:timers/promises";

export type HealthResult = { ok: true } | { ok: false; why: string };

export interface HealthWaitOptions {
  port: number;
  /** The app's health path, e.g. `/` or `/healthz`. */
  path: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Settles when the VM has ended: no point waiting on. */
  exited: Promise<unknown>;
  pollMs?: number;
}

/**
 * GET http://127.0.0.1:{port}{path} until it answers 2xx, the VM ends, or time is up. QEMU's
 * hostfwd accepts a connection before the app listens and then drops it: that is "not yet".
 */
export async function waitHealthy(o: HealthWaitOptions): Promise<HealthResult> {
  const deadline = Date.now() + o.timeoutMs;
  let ended = false;
  void o.exited.then(() => (ended = true), () => (ended = true));
  let last = "no answer";
  while (Date.now() < deadline) {
    o.signal.throwIfAborted();
    if (ended) return { ok: false, why: "the VM stopped (the app exited)" };
    try {
      const res = await fetch(`http://127.0.0.1:${o.port}${o.path}`, { redirect: "manual", signal: AbortSignal.any([o.signal, AbortSignal.timeout(5_000)]) });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return { ok: true };
      last = `answered ${res.status}`;
    } catch (err) {
      o.signal.throwIfAborted();
      last = err instanceof Error && err.name === "TimeoutError" ? "a request took over 5 s" : "no answer";
    }
    await sleep(o.pollMs ?? 500, undefined, { signal: o.signal });
  }
  return { ok: false, why: `${last} within ${Math.round(o.timeoutMs / 1000)} s` };
}
