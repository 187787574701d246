/**
 * Typed errors. Callers branch on `kind`, never on message text.
 * - user: the repo's fault; the check fails with a fix-it message.
 * - transient: worth retrying with backoff (network blips, GitHub 5xx).
 * - infra: our side is broken; the check ends neutral and the operator is alerted.
 * - cancelled / timeout: the build was stopped on purpose or by its deadline.
 */
export type ErrorKind = "user" | "transient" | "infra" | "cancelled" | "timeout";

export interface ErrorLocation {
  file: string;
  line?: number;
  column?: number;
}

export interface MicroshipErrorOptions {
  /** What the user should do about it, in one or two sentences. */
  hint?: string;
  /** Where in the repo the problem is, when known. */
  location?: ErrorLocation;
  /** Short title for a check run, a few words. */
  title?: string;
  cause?: unknown;
}

export class MicroshipError extends Error {
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly location: ErrorLocation | undefined;
  readonly title: string | undefined;

  constructor(kind: ErrorKind, message: string, options: MicroshipErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "MicroshipError";
    this.kind = kind;
    this.hint = options.hint;
    this.location = options.location;
    this.title = options.title;
  }
}

export function userError(message: string, options?: MicroshipErrorOptions): MicroshipError {
  return new MicroshipError("user", message, options);
}

export function transientError(message: string, options?: MicroshipErrorOptions): MicroshipError {
  return new MicroshipError("transient", message, options);
}

export function infraError(message: string, options?: MicroshipErrorOptions): MicroshipError {
  return new MicroshipError("infra", message, options);
}

export function cancelledError(message: string, options?: MicroshipErrorOptions): MicroshipError {
  return new MicroshipError("cancelled", message, options);
}

export function timeoutError(message: string, options?: MicroshipErrorOptions): MicroshipError {
  return new MicroshipError("timeout", message, options);
}

export function isMicroshipError(err: unknown): err is MicroshipError {
  return err instanceof MicroshipError;
}

/** Anything we did not type ourselves is treated as an infrastructure fault. */
export function toMicroshipError(err: unknown): MicroshipError {
  if (err instanceof MicroshipError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new MicroshipError("infra", message, { cause: err });
}

/** A worker that lost its lease must not report: another worker or the recovery sweep owns the build now. */
export class LeaseLostError extends MicroshipError {
  constructor() {
    super("infra", "This worker lost its lease on the build.");
    this.name = "LeaseLostError";
  }
}
