import type { IncomingMessage, ServerResponse, Server } from "node:http";
import type { Duplex } from "node:stream";
import { createProxyServer } from "http-proxy-3";
import { RouteTable, type Route, type WakeStatus } from "./route-table.ts";
import { tableSource, type Resolved, type RouteSource } from "./route-source.ts";
import { unknownDeploymentPage, wakeFailedPage, wakingPage } from "./proxy-pages.ts";
import { upstreamTlsWarner } from "./upstream-tls.ts";
import { upstreamAgents } from "./upstream-agents.ts";
import type { OpLog } from "../../core/ports.ts";

export interface DeployProxy {
  /** Express-style: answers a deployment host's request, or passes any other to `next`. */
  handle(req: IncomingMessage, res: ServerResponse, next: () => void): void;
  /** The server's 'upgrade' event: true when the socket was a deployment's (and is now handled). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * Hooks `upgrade` to a server (other hosts' upgrades are left to other listeners, or closed as
   * Node would), gives the routes its port for URLs once it listens, and closes with it.
   */
  attach(server: Server): void;
  /** Each proxied request's route, for idle accounting. */
  onRequest?: (route: Route) => void;
  close(): void;
}

/**
 * microship's one reverse proxy for deployments: a request for `{name}.{domain}` goes where its
 * source says (the microvm deployer's route table: a VM's loopback port; the Hypeman wake layer:
 * Hypeman's ingress), with its Host kept and X-Forwarded-* added; it never reaches microship's own
 * routes. An unknown name gets a 404 page, a sleeping one the waking page, a dead one a 502.
 */
export function createDeployProxy(routes: RouteTable | RouteSource, o: { proxyTimeoutMs?: number; log?: OpLog } = {}): DeployProxy {
  const source = routes instanceof RouteTable ? tableSource(routes) : routes;
  const agents = upstreamAgents(source.upstreamCa);
  const proxy = createProxyServer({ xfwd: true, ws: true, proxyTimeout: o.proxyTimeoutMs ?? 120_000 });
  proxy.on("error", onProxyError(upstreamTlsWarner(o.log)));
  const self: DeployProxy = {
    handle(req, res, next) {
      const found = source.resolve(req.headers.host);
      if (!(found instanceof Promise)) return answer(found, req, res, next);
      found.then((r) => answer(r, req, res, next)).catch(() => notAnswering(res));
    },
    upgrade(req, socket, head) {
      const found = source.resolve(req.headers.host);
      if (!(found instanceof Promise)) return found.kind !== "other" && upgradeTo(found, req, socket, head);
      found.then((r) => upgradeTo(r, req, socket, head)).catch(() => void socket.end("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
      return true;
    },
    attach(server) {
      server.once("listening", () => {
        const address = server.address();
        if (typeof address === "object" && address) source.listening?.(address.port);
      });
      server.once("close", () => self.close());
      server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        // Node closes an upgrade nobody listens for; with ours attached, that falls to us unless another listener is there.
        if (!self.upgrade(req, socket, head) && server.listenerCount("upgrade") === 1) socket.destroy();
      });
    },
    close() {
      agents.destroy();
      proxy.close();
    },
  };
  function answer(found: Resolved, req: IncomingMessage, res: ServerResponse, next: () => void): void {
    if (found.kind === "other") return next();
    if (found.kind === "unknown") {
      res.writeHead(404, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" });
      res.end(unknownDeploymentPage(found.name, source.domain));
      return;
    }
    if (found.kind === "asleep") return answerSleeping(source.domain, found.name, found.wake, res);
    if (found.route) self.onRequest?.(found.route);
    proxy.web(req, res, agents.via(found.target));
  }
  function upgradeTo(found: Exclude<Resolved, { kind: "other" }>, req: IncomingMessage, socket: Duplex, head: Buffer): true {
    if (found.kind === "unknown") socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else if (found.kind === "asleep") refuseSleeping(found.wake, socket);
    else {
      if (found.route) self.onRequest?.(found.route);
      proxy.ws(req, socket, head, agents.via(found.target));
    }
    return true;
  }
  return self;
}

const WAKE_REFRESH_S = 5;

/** A sleeping deployment's request: its wake was asked for (once, however many ask); a 503 page at once. */
function answerSleeping(domain: string, name: string, w: WakeStatus, res: ServerResponse): void {
  const retry = w.kind === "failed" ? w.retryInS : WAKE_REFRESH_S;
  res.writeHead(503, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff", "retry-after": String(retry) });
  res.end(w.kind === "failed" ? wakeFailedPage(name, domain, retry) : wakingPage(name, domain, retry));
}

/** A sleeping deployment's upgrade: a socket can't show a page, so 503; the wake goes on, for the client's retry. */
function refuseSleeping(w: WakeStatus, socket: Duplex): void {
  const retry = w.kind === "failed" ? w.retryInS : WAKE_REFRESH_S;
  socket.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${retry}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A forward that failed: the 502 page, or the socket closed; a refused certificate is said in the log. */
function onProxyError(warnTls: (err: unknown) => void) {
  return (err: Error, _req: unknown, resOrSocket: unknown): void => {
    warnTls(err);
    const res = resOrSocket as ServerResponse | Duplex | undefined;
    if (res && "writeHead" in res) notAnswering(res);
    else res?.destroy();
  };
}

/** A deployment that doesn't answer, or a source that could not say (the backend's list failed). */
function notAnswering(res: ServerResponse): void {
  if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain; charset=utf-8" });
  res.end("This deployment is not answering right now.\n");
}
