import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import type { FakeDeployApi } from "./fake-deploy-api.ts";

type Json = Record<string, any>;

export interface FakeIngress {
  /** http://127.0.0.1:port (https:// with `tls`): what MICROSHIP_HYPEMAN_INGRESS_URL names. */
  url: string;
  /** With `tls`: the name each connection asked for (SNI; null: none), one entry per TLS connection. */
  servernames: Array<string | null>;
  /** Every request, in order: its Host, the instance its rules chose (null: none), the status answered. */
  requests: Array<{ host: string; instance: string | null; status: number; upgrade: boolean }>;
  close(): Promise<void>;
}

/**
 * Hypeman's ingress on loopback: a request's Host goes through the ingresses' rules (`{instance}.domain`
 * patterns and exact hostnames; the rule's port is not matched, this listener has one port) to an
 * instance. Hypeman can't run VMs here, so nothing is proxied: a Running instance answers a body
 * naming itself (and the Host and X-Forwarded-For it was given), anything else a 502, as Hypeman's
 * ingress does for an instance it can't reach. It never restores an instance in standby.
 */
export async function startFakeIngress(deploy: FakeDeployApi, o: { tls?: { key: string; cert: string } } = {}): Promise<FakeIngress> {
  const requests: FakeIngress["requests"] = [];
  const servernames: FakeIngress["servernames"] = [];
  const choose = (req: IncomingMessage, upgrade: boolean) => {
    const host = String(req.headers.host ?? "");
    const target = route(deploy, host.toLowerCase().replace(/:\d+$/, ""));
    const instance = target ? [...deploy.instances.values()].find((i) => i.name === target.name) : undefined;
    const status = !target || !instance ? 404 : instance.state === "Running" ? (upgrade ? 101 : 200) : 502;
    requests.push({ host, instance: instance?.name ?? null, status, upgrade });
    return { status, instance, target };
  };
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const { status, instance, target } = choose(req, false);
    res.writeHead(status, { "content-type": "text/plain", "x-seen-host": String(req.headers.host ?? ""), "x-seen-forwarded-for": String(req.headers["x-forwarded-for"] ?? "") });
    res.end(status === 200 ? `instance ${instance!.name} port ${target!.port}` : status === 502 ? `instance ${instance!.name} is ${instance!.state}` : "no ingress rule matches");
  };
  const server = o.tls ? createTlsServer(o.tls, answer) : createServer(answer);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex) => {
    const { status, instance } = choose(req, true);
    socket.end(status === 101
      ? `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Instance: ${instance!.name}\r\n\r\n`
      : `HTTP/1.1 ${status} Nope\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  server.on("secureConnection", (socket: TLSSocket) => servernames.push(typeof socket.servername === "string" ? socket.servername : null));
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `${o.tls ? "https" : "http"}://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    servernames,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** The instance name and port a host goes to, through the first rule that matches it. */
function route(deploy: FakeDeployApi, host: string): { name: string; port: number } | null {
  for (const ingress of deploy.ingresses.values()) {
    for (const rule of ingress.rules as Json[]) {
      const pattern = String(rule.match.hostname).toLowerCase();
      const label = pattern.startsWith("{instance}.") && host.endsWith(pattern.slice("{instance}".length)) ? host.slice(0, host.length - pattern.length + "{instance}".length) : null;
      if (label !== null && label.length > 0 && !label.includes(".")) return { name: String(rule.target.instance).replace("{instance}", label), port: rule.target.port };
      if (pattern === host) return { name: String(rule.target.instance), port: rule.target.port };
    }
  }
  return null;
}
