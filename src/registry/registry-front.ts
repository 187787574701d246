import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { pipeline } from "node:stream";
import type { OpLog } from "../core/ports.ts";
import { decideAccess } from "./registry-access.ts";
import type { RegistryCredentialIssuer } from "./registry-credentials.ts";

export interface RegistryFrontOptions {
  /** distribution's unix socket. */
  socketPath: string;
  credentials: RegistryCredentialIssuer;
  log: OpLog;
  /** Anyone may pull (a mirror of public base images); writes still need the operator. */
  anonymousPull?: boolean;
  /** A fixed port on 127.0.0.1; by default a free one. */
  port?: number;
}

export interface RegistryFront {
  /** 127.0.0.1:PORT */
  address: string;
  stop(): Promise<void>;
}

// Hop-by-hop headers are the proxy's own; the client's credential and forwarding claims never
// reach the registry, which would otherwise build its upload URLs from them.
const DROP_REQUEST = new Set(["authorization", "connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"]);
const DROP_RESPONSE = new Set(["connection", "keep-alive", "proxy-authenticate", "trailer", "transfer-encoding", "upgrade"]);
const API_VERSION = { "docker-distribution-api-version": "registry/2.0" };

/**
 * The only way into the embedded registry: a loopback listener that checks each request's
 * HTTP Basic credential against what it may do (registry-access.ts) and streams what it allows
 * to distribution's unix socket. Blobs are streamed both ways, never buffered. Written on
 * node:http rather than a proxy library: there is one fixed upstream on a socket, no rewriting,
 * and the headers that pass must be chosen here anyway.
 */
export async function startRegistryFront(o: RegistryFrontOptions): Promise<RegistryFront> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server: Server = createServer({ headersTimeout: 15_000, requestTimeout: 0, maxHeaderSize: 16 * 1024 }, (req, res) => handle(req, res));
  // A stalled client is dropped; a slow but moving blob upload is not (requestTimeout 0 above).
  server.timeout = 120_000;
  server.maxConnections = 256;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? "" : url.slice(q + 1);
    const grant = o.credentials.verify(req.headers.authorization);
    const decision = decideAccess({ method: req.method ?? "GET", path, query, grant, anonymousPull: o.anonymousPull });
    if (!decision.allow) {
      sendRefusal(res, req.method, decision.status, decision.reason);
      req.resume();
      if (decision.status !== 401) o.log.warn({ method: req.method, path: path.slice(0, 200), build: grant?.kind === "build" ? grant.buildId : null, reason: decision.reason }, "registry request refused");
      return;
    }
    const forwardPath = decision.query === undefined ? url : decision.query ? `${path}?${decision.query}` : path;
    forward(req, res, forwardPath, o, agent);
  }

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(o.port ?? 0, "127.0.0.1", () => ok());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}

function sendRefusal(res: ServerResponse, method: string | undefined, status: number, reason: string): void {
  const code = status === 401 ? "UNAUTHORIZED" : status === 403 ? "DENIED" : status === 405 ? "UNSUPPORTED" : "NAME_UNKNOWN";
  const body = JSON.stringify({ errors: [{ code, message: reason }] });
  res.writeHead(status, {
    ...API_VERSION,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...(status === 401 ? { "www-authenticate": 'Basic realm="microship registry"' } : {}),
  });
  res.end(method === "HEAD" ? undefined : body);
}

/** Passes an allowed request to the registry's socket, streaming both ways. */
function forward(req: IncomingMessage, res: ServerResponse, path: string, o: RegistryFrontOptions, agent: Agent): void {
  const up = httpRequest({ socketPath: o.socketPath, agent, method: req.method, path, headers: filter(req.headers, DROP_REQUEST) }, (ur) => {
    res.writeHead(ur.statusCode ?? 502, filter(ur.headers, DROP_RESPONSE));
    pipeline(ur, res, () => undefined);
  });
  up.on("error", (err) => {
    if (!res.headersSent) {
      res.writeHead(502, { ...API_VERSION, "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "the registry is not answering" }] }));
    } else {
      res.destroy();
    }
    o.log.warn({ err: err.message }, "embedded registry unreachable");
  });
  pipeline(req, up, () => undefined);
}

function filter(headers: IncomingHttpHeaders, drop: Set<string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !drop.has(k)) out[k] = v;
  return out;
}
