import type { BuildInput, LogLine } from "../core/builder.ts";
import { cancelledError, isMicroshipError, timeoutError, type MicroshipError } from "../core/errors.ts";
import type { LogChannel } from "./log-lines.ts";
import { secretMask, type SecretMask } from "./secret-mask.ts";

// Enough of the log's end to find the failing step and the builder's error line.
export const TAIL_LINES = 200;

/** What a backend gets besides the input: where its lines go, the tail, and the deadline clock. */
export interface BuildIO {
  /** A line of the build's output: masked, kept for the tail, passed on. */
  line(l: LogLine): void;
  /** A line of ours about the build (masked too: it may quote the build). */
  system(text: string): void;
  /** The log's last TAIL_LINES lines, masked: what failure messages are made from. */
  readonly tail: readonly LogLine[];
  /**
   * Starts the deadline clock, once: `timeoutSeconds + graceSeconds` later the build's signal is
   * aborted with buildTimedOut(). A backend whose build waits in a queue starts it when the build
   * leaves it; one that enforces the timeout elsewhere (the microVM's guest) never does.
   */
  startDeadline(graceSeconds?: number): void;
}

/** The one error a build that ran out of time ends with, whichever backend noticed. */
export function buildTimedOut(timeoutSeconds: number): MicroshipError {
  return timeoutError(`The build took longer than its ${timeoutSeconds} s limit.`, {
    title: `Build timed out after ${timeoutSeconds} s`,
    hint: "Make the build faster, or raise `timeout` in .github/microship.yml.",
  });
}

/**
 * One build's life in the shell: the signal the backend sees (aborted with the typed error the
 * build ends with: cancelled, timed out, builder shutting down), the masked tail, the deadline.
 */
export class BuildRun implements BuildIO {
  /** The caller's input, with the run's own signal in place of the caller's. */
  readonly input: BuildInput;
  readonly tail: LogLine[] = [];
  private readonly controller = new AbortController();
  private readonly mask: SecretMask;
  private readonly logs: LogChannel;
  private readonly caller: AbortSignal;
  private deadline: NodeJS.Timeout | null = null;
  private readonly onCallerAbort = () => this.stop(cancelledError("The build was cancelled.", { title: "Build cancelled" }));

  constructor(input: BuildInput, logs: LogChannel) {
    this.logs = logs;
    this.caller = input.signal;
    this.mask = secretMask(input);
    this.input = { ...input, signal: this.controller.signal };
    if (input.signal.aborted) this.onCallerAbort();
    else input.signal.addEventListener("abort", this.onCallerAbort, { once: true });
  }

  line(raw: LogLine): void {
    const l = this.mask.line(raw);
    this.tail.push(l);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    this.logs.push(l);
  }

  system(text: string): void {
    this.logs.system(this.mask.text(text));
  }

  startDeadline(graceSeconds = 0): void {
    if (this.deadline || this.controller.signal.aborted) return;
    const ms = (this.input.timeoutSeconds + graceSeconds) * 1000;
    this.deadline = setTimeout(() => this.stop(buildTimedOut(this.input.timeoutSeconds)), Math.min(ms, 2 ** 31 - 1));
  }

  /** Aborts the build's signal with `reason`; the first reason wins. */
  stop(reason: MicroshipError): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /**
   * What the build rejects with: a stop's reason wins over whatever the backend threw on its
   * way out; an untyped error becomes the backend's infra error; every message is masked.
   */
  failure(err: unknown, unexpected: (err: unknown) => MicroshipError): MicroshipError {
    const signal = this.controller.signal;
    const typed = signal.aborted ? (signal.reason as MicroshipError) : isMicroshipError(err) ? err : unexpected(err);
    return this.mask.error(typed);
  }

  dispose(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.caller.removeEventListener("abort", this.onCallerAbort);
  }
}
