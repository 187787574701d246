import type { IncomingMessage, ServerResponse } from "node:http";
import getRawBody from "raw-body";

/** GitHub caps a delivery's payload at 25 MB. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

export interface BodyLimitOptions {
  maxBytes?: number;
  /** Bytes all bodies being read may hold at once (declared, or arrived so far): past it, 503. */
  budgetBytes?: number;
  /** GitHub gives up on a delivery after 10 s; a body still trickling in after that is not GitHub. */
  readTimeoutMs?: number;
}

type Next = (err?: unknown) => void;

/**
 * Reads a request body before Probot's middleware does, refusing it as soon as it is too big:
 * by its content-length before reading, or by the bytes counted as they arrive (a chunked body
 * has no length). Probot's reader (@octokit/webhooks' getPayload) takes `req.rawBody` when it is
 * set, so the signature is checked on exactly the bytes received, and nothing buffers them twice.
 * Every method but GET and HEAD is read here: Probot answers POSTs to its path, trailing slash
 * or not, and no other route takes a body.
 */
export function webhookBodyLimit(options: BodyLimitOptions = {}) {
  const maxBytes = options.maxBytes ?? MAX_WEBHOOK_BYTES;
  const budget = options.budgetBytes ?? 4 * maxBytes;
  const readTimeoutMs = options.readTimeoutMs ?? 10_000;
  let reserved = 0;

  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    if (req.method === "GET" || req.method === "HEAD") return next();
    const declared = req.headers["content-length"];
    const length = declared === undefined ? null : Number(declared);
    if (length !== null && !(Number.isSafeInteger(length) && length >= 0)) return refuse(req, res, 400, "bad content-length");
    if (length !== null && length > maxBytes) return refuse(req, res, 413, `payload over ${maxBytes} bytes`);
    // A body with a length holds it from the start. A chunked one holds what has arrived: were it
    // to claim the whole limit up front, four bodies trickling a byte each would hold the budget
    // for their whole deadline, and GitHub's real deliveries (which it never retries) would be lost.
    let claim = length ?? 0;
    if (reserved + claim > budget) return refuse(req, res, 503, "too many large payloads at once; retry later", { "retry-after": "5" });
    reserved += claim;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      reserved -= claim;
      return true;
    };
    const timer = setTimeout(() => settle() && refuse(req, res, 408, "the body took too long to arrive"), readTimeoutMs);
    if (length === null) {
      req.on("data", (chunk: Buffer) => {
        if (settled) return;
        claim += chunk.length;
        reserved += chunk.length;
        if (reserved > budget && settle()) refuse(req, res, 503, "too many large payloads at once; retry later", { "retry-after": "5" });
      });
    }
    getRawBody(req, { length, limit: maxBytes }, (err, body) => {
      if (!settle()) return;
      if (err) return refuse(req, res, err.status === 413 ? 413 : 400, err.status === 413 ? `payload over ${maxBytes} bytes` : "could not read the request body");
      Object.assign(req, { rawBody: body, body });
      next();
    });
  };
}

/** How long, and how much, a refused body is still read and dropped before the socket closes. */
const LINGER_MS = 1_000;
const LINGER_BYTES = 64 * 1024 * 1024;

/**
 * Answers, then closes the connection without reading the rest of the body. Closing at once
 * would reset a client still sending before it reads the answer, so the socket lingers a moment
 * (as web servers' "lingering close" does), dropping what arrives, within a time and byte bound.
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${message}\n`;
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text), connection: "close", ...headers });
  res.write(text);
  let dropped = 0;
  const close = () => {
    clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  const timer = setTimeout(close, LINGER_MS);
  timer.unref();
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) close();
  });
  req.on("end", close);
  req.resume();
}
