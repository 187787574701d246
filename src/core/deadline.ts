import { timeoutError } from "./errors.ts";

/** An outer deadline on top of the builder's own: a hung backend must not hold the build forever. */
export function deadline(parent: AbortSignal, seconds: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  parent.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(timeoutError(`The build took longer than its ${seconds} s limit.`, {
    title: `Build timed out after ${seconds} s`,
    hint: "Make the build faster, or raise `timeout` in .github/microship.yml.",
  })), (seconds + 30) * 1000);
  timer.unref();
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener("abort", onAbort);
    },
  };
}

/** A signal stopped by a deadline ends the build as timed out, whatever error the stopped step threw. */
export function errorOf(signal: AbortSignal, err: unknown): unknown {
  return signal.aborted && isTimeoutReason(signal.reason) ? signal.reason : err;
}

function isTimeoutReason(reason: unknown): boolean {
  return reason instanceof Error && "kind" in reason && (reason as { kind: string }).kind === "timeout";
}
