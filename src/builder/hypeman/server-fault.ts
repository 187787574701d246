/** Connection errors that mean no byte of the request reached the server. */
const NEVER_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "EADDRNOTAVAIL"]);

/**
 * Whether a request failed before a connection was made, so the server can't have acted on it.
 * Only then may a create be sent to another server: a reset or a timeout may come after the
 * server took the build, and one build must never run twice.
 */
export function neverReached(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NEVER_CONNECTED.has(code)) return true;
    // undici wraps its causes in AggregateErrors when it tried several addresses.
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length > 0 && inner.every((x) => neverReached(x))) return true;
  }
  return false;
}

/** Whether an error says the server itself is in trouble (not that it refused this request). */
export function serverDown(err: unknown): boolean {
  const status = (err as { status?: unknown }).status;
  return typeof status !== "number" || status >= 500;
}

/**
 * A short account of why a server failed, for the "no server is up" message and the log. The SDK's
 * messages carry the status and the server's own message, never the request's headers; a URL's
 * userinfo is stripped anyway, and the text is cut.
 */
export function serverFault(err: unknown): string {
  const e = err as { status?: number; error?: { message?: string }; message?: string; cause?: { code?: string } };
  let code: string | undefined;
  for (let c: unknown = err, depth = 0; c && depth < 5 && !code; c = (c as { cause?: unknown }).cause, depth++) {
    const k = (c as { code?: unknown }).code;
    if (typeof k === "string") code = k;
  }
  const text = typeof e.status === "number"
    ? `answered ${e.status}${e.error?.message ? `: ${e.error.message}` : ""}`
    : `can't be reached${code ? ` (${code})` : e.message ? `: ${e.message}` : ""}`;
  return text.replace(/\/\/[^/@\s]*@/g, "//").replace(/[\u0000-\u001f\u007f]/g, " ").slice(0, 200);
}
