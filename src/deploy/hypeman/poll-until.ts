import { cancelledError } from "../../core/errors.ts";

/**
 * Reads `read` every `pollMs` until `done` says what it is, or `timeoutMs` passes (then null).
 * The build's signal stops it at once.
 */
export async function pollUntil<T, R>(
  read: () => Promise<T>,
  done: (value: T) => R | undefined,
  o: { pollMs: number; timeoutMs: number; signal: AbortSignal },
): Promise<{ value: T; result: R } | { value: T | null; result: null }> {
  const end = Date.now() + o.timeoutMs;
  let last: T | null = null;
  for (;;) {
    if (o.signal.aborted) throw o.signal.reason ?? cancelledError("The deploy was cancelled.");
    last = await read();
    const result = done(last);
    if (result !== undefined) return { value: last, result };
    if (Date.now() >= end) return { value: last, result: null };
    await sleep(o.pollMs, o.signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
