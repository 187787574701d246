import type { IncomingMessage, ServerResponse } from "node:http";
import getRawBody from "raw-body";

/** GitHub caps a delivery's payload at 25 MB. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

export interface BodyLimitOptions {
  maxBytes?: number;
  /** Bytes all bodies being read may hold at once: a flood of large bodies waits its turn with 503. */
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
    if (length !== null && !(Number.isSafeInteger(length) && length >= 0)) return refuse(res, 400, "bad content-length");
    if (length !== null && length > maxBytes) return refuse(res, 413, `payload over ${maxBytes} bytes`);
    // A chunked body may grow to the limit, so it holds that much of the budget while it is read.
    const claim = length ?? maxBytes;
    if (reserved + claim > budget) return refuse(res, 503, "too many large payloads at once; retry later", { "retry-after": "5" });
    reserved += claim;
    const timer = setTimeout(() => req.destroy(), readTimeoutMs);
    getRawBody(req, { length, limit: maxBytes }, (err, body) => {
      clearTimeout(timer);
      reserved -= claim;
      if (err) {
        if (err.status === 413) return refuse(res, 413, `payload over ${maxBytes} bytes`);
        return refuse(res, 400, "could not read the request body");
      }
      Object.assign(req, { rawBody: body, body });
      next();
    });
  };
}

/**
 * Answers and closes the connection: the rest of a refused body is never read. The socket is
 * ended, not reset, so the client still receives the answer.
 */
function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close", ...headers });
  res.end(`${message}\n`);
}
