import { Agent, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { createProxyServer } from "http-proxy-3";
import type { RouteTable, Route } from "./route-table.ts";
import { unknownDeploymentPage, wakeFailedPage, wakingPage } from "./proxy-pages.ts";

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
 * microship's reverse proxy for its own deployments (the microvm deployer's VMs): a request for
 * `{name}.{domain}` goes to the route's loopback port, with its Host kept and X-Forwarded-* added;
 * it never reaches microship's own routes. An unknown name gets a 404 page, a dead VM a 502.
 */
export function createDeployProxy(routes: RouteTable, o: { proxyTimeoutMs?: number } = {}): DeployProxy {
  // Keep-alive to the VMs: a new connection per request through QEMU's user network costs most of the time.
  const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
  const proxy = createProxyServer({ xfwd: true, ws: true, agent, proxyTimeout: o.proxyTimeoutMs ?? 120_000 });
  proxy.on("error", (_err, _req, resOrSocket) => {
    const res = resOrSocket as ServerResponse | Duplex | undefined;
    if (res && "writeHead" in res) {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain; charset=utf-8" });
      res.end("This deployment is not answering right now.\n");
    } else res?.destroy();
  });
  const self: DeployProxy = {
    handle(req, res, next) {
      const found = routes.lookup(req.headers.host);
      if (found.kind === "other") return next();
      if (found.kind === "unknown") {
        res.writeHead(404, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" });
        res.end(unknownDeploymentPage(found.name, routes.domain));
        return;
      }
      routes.touch(found.route.name);
      if (found.route.sleeping) return answerSleeping(routes, found.route.name, res);
      self.onRequest?.(found.route);
      proxy.web(req, res, { target: `http://127.0.0.1:${found.route.port}` });
    },
    upgrade(req, socket, head) {
      const found = routes.lookup(req.headers.host);
      if (found.kind === "other") return false;
      if (found.kind === "unknown") {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return true;
      }
      routes.touch(found.route.name);
      if (found.route.sleeping) return refuseSleeping(routes, found.route.name, socket);
      self.onRequest?.(found.route);
      proxy.ws(req, socket, head, { target: `http://127.0.0.1:${found.route.port}` });
      return true;
    },
    attach(server) {
      server.once("listening", () => {
        const address = server.address();
        if (typeof address === "object" && address) routes.listening(address.port);
      });
      server.once("close", () => self.close());
      server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        // Node closes an upgrade nobody listens for; with ours attached, that falls to us unless another listener is there.
        if (!self.upgrade(req, socket, head) && server.listenerCount("upgrade") === 1) socket.destroy();
      });
    },
    close() {
      agent.destroy();
      proxy.close();
    },
  };
  return self;
}

const WAKE_REFRESH_S = 5;

/** A sleeping route's request: starts the VM (once, however many ask) and answers a 503 page at once. */
function answerSleeping(routes: RouteTable, name: string, res: ServerResponse): void {
  const w = routes.wake(name);
  const retry = w.kind === "failed" ? w.retryInS : WAKE_REFRESH_S;
  res.writeHead(503, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff", "retry-after": String(retry) });
  res.end(w.kind === "failed" ? wakeFailedPage(name, routes.domain, retry) : wakingPage(name, routes.domain, retry));
}

/** A sleeping route's upgrade: a socket can't show a page, so 503; the VM starts anyway, for the client's retry. */
function refuseSleeping(routes: RouteTable, name: string, socket: Duplex): true {
  const w = routes.wake(name);
  const retry = w.kind === "failed" ? w.retryInS : WAKE_REFRESH_S;
  socket.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${retry}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  return true;
}
