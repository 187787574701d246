import { STATUS_CODES, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, isIP, type Socket } from "node:net";
import { lookup as dnsLookup } from "node:dns/promises";
import type { Duplex } from "node:stream";
import type { EgressBlockReason, EgressPolicy } from "./egress-policy.ts";

/**
 * The builder VM's one way out (docs/design.md section 5): an HTTP proxy on the host, one per VM, that QEMU
 * forwards the guest's 10.0.2.101:3128 to. It speaks CONNECT (https, and any TCP a client tunnels)
 * and plain forward requests (apt's http:// mirrors). For each request it resolves the name itself,
 * asks the policy about every address, and connects to the exact address it checked, so a name
 * that resolves to the host's loopback or the metadata service is refused, and a DNS answer that
 * changes between the check and the connection changes nothing.
 */

export type Lookup = (host: string) => Promise<{ address: string; family: number }[]>;

export interface EgressProxyOptions {
  /** A unix socket path, or 0 for a loopback TCP port (tests). */
  listen: string | 0;
  policy: EgressPolicy;
  /** Name resolution (default: the host's resolver, every address). */
  lookup?: Lookup;
  /** Each refusal, for the build log: the guest only sees a 403. */
  onRefused?(target: string, why: string): void;
  /** Open client connections at most (default 256): a build can't exhaust the host's sockets. */
  maxConnections?: number;
  /** How long a connection to an allowed address may take to open (default 15 s). */
  connectTimeoutMs?: number;
  /** A tunnel or request idle this long is closed (default 5 minutes). */
  idleTimeoutMs?: number;
}

export interface EgressProxy {
  /** The socket path, or 127.0.0.1:PORT. */
  address: string;
  close(): Promise<void>;
}

const LOOKUP_TIMEOUT_MS = 10_000;
// RFC 1035's limit, and the characters of a host name: anything else is refused before resolving.
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_.])?$/;
const HOP_BY_HOP = new Set(["connection", "proxy-connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade"]);

const WHY: Record<EgressBlockReason, string> = {
  loopback: "the build host's loopback",
  "link-local": "link-local (the cloud metadata service lives there)",
  private: "a private network (MICROSHIP_EGRESS_ALLOW can open a mirror there)",
  reserved: "a reserved or multicast address",
};

type Target = { ok: true; address: string; port: number } | { ok: false; status: number; why: string };

/** What the connection handlers share: the checked resolver, the refusal note, the open sockets. */
interface ProxyContext {
  resolve(host: string, port: number): Promise<Target>;
  refuse(target: string, t: { status: number; why: string }): string;
  track(s: Duplex): void;
  idleMs: number;
  connectTimeoutMs: number;
}

export async function startEgressProxy(o: EgressProxyOptions): Promise<EgressProxy> {
  const lookup: Lookup = o.lookup ?? ((host) => dnsLookup(host, { all: true, verbatim: true }));
  const open = new Set<Duplex>();
  const ctx: ProxyContext = {
    resolve: (host, port) => resolveTarget(host, port, lookup, o.policy),
    refuse: (target, t) => {
      o.onRefused?.(target, t.why);
      return `microship: the build may not reach ${target}: ${t.why}.\n`;
    },
    track: (s) => {
      open.add(s);
      s.once("close", () => open.delete(s));
    },
    idleMs: o.idleTimeoutMs ?? 300_000,
    connectTimeoutMs: o.connectTimeoutMs ?? 15_000,
  };

  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 0, headersTimeout: 30_000 });
  server.maxConnections = o.maxConnections ?? 256;
  server.on("connection", (s: Socket) => {
    ctx.track(s);
    s.setTimeout(ctx.idleMs, () => s.destroy());
  });
  server.on("connect", (req: IncomingMessage, client: Duplex, head: Buffer) => tunnel(ctx, req, client, head));
  server.on("request", (req: IncomingMessage, res: ServerResponse) => forward(ctx, req, res));

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    if (typeof o.listen === "string") server.listen({ path: o.listen }, () => ok());
    else server.listen({ host: "127.0.0.1", port: 0 }, () => ok());
  });
  const a = server.address();
  const address = typeof a === "string" ? a : `127.0.0.1:${a!.port}`;
  return {
    address,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        for (const s of open) s.destroy();
      }),
  };
}

/** Resolves the name itself and returns the first address the policy allows, or why none is. */
async function resolveTarget(host: string, port: number, lookup: Lookup, policy: EgressPolicy): Promise<Target> {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (!(port >= 1 && port <= 65535)) return { ok: false, status: 400, why: `port ${port} is not valid` };
  let addresses: string[];
  if (isIP(bare)) addresses = [bare];
  else if (!HOST_NAME.test(bare)) return { ok: false, status: 400, why: "the host name is not valid" };
  else {
    try {
      const found = await withTimeout(lookup(bare), LOOKUP_TIMEOUT_MS);
      addresses = found.map((a) => a.address);
    } catch {
      return { ok: false, status: 502, why: `${bare} did not resolve` };
    }
  }
  let refused: EgressBlockReason | null = null;
  for (const address of addresses) {
    const v = policy.verdict(address, port);
    if (v.allowed) return { ok: true, address, port };
    refused ??= v.reason;
  }
  return { ok: false, status: 403, why: refused ? `${bare === addresses[0] ? bare : `${bare} (${addresses[0]})`} is ${WHY[refused]}` : `${bare} has no address` };
}

/** CONNECT host:port: a tunnel to the exact address that was checked. */
function tunnel(ctx: ProxyContext, req: IncomingMessage, client: Duplex, head: Buffer): void {
  const target = req.url ?? "";
  const colon = target.lastIndexOf(":");
  const host = colon > 0 ? target.slice(0, colon) : "";
  const port = colon > 0 && /^\d{1,5}$/.test(target.slice(colon + 1)) ? Number(target.slice(colon + 1)) : 0;
  client.on("error", () => client.destroy());
  void ctx.resolve(host, port).then((t) => {
    if (client.destroyed) return;
    if (!t.ok) {
      const body = ctx.refuse(target, t);
      client.end(`HTTP/1.1 ${t.status} ${STATUS_CODES[t.status]}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    const upstream = connect({ host: t.address, port: t.port, timeout: ctx.connectTimeoutMs });
    ctx.track(upstream);
    upstream.once("timeout", () => upstream.destroy(new Error("connect timeout")));
    let established = false;
    upstream.once("connect", () => {
      established = true;
      upstream.setTimeout(ctx.idleMs, () => upstream.destroy());
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => {
      if (established) client.destroy();
      else client.end("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    });
    client.once("close", () => upstream.destroy());
  });
}

/** A plain http:// proxy request (apt's mirrors), forwarded to the exact address that was checked. */
function forward(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  let url: URL;
  try {
    url = new URL(req.url ?? "");
  } catch {
    return void res.writeHead(400, { "content-type": "text/plain", connection: "close" }).end("microship: only proxy requests (an absolute http:// URL, or CONNECT) are served here.\n");
  }
  if (url.protocol !== "http:") return void res.writeHead(400, { "content-type": "text/plain", connection: "close" }).end("microship: https goes through CONNECT.\n");
  const port = url.port ? Number(url.port) : 80;
  const target = `${url.hostname}:${port}`;
  void ctx.resolve(url.hostname, port).then((t) => {
    if (!t.ok) return void res.writeHead(t.status, { "content-type": "text/plain", connection: "close" }).end(ctx.refuse(target, t));
    const up = httpRequest({ host: t.address, port: t.port, method: req.method, path: `${url.pathname}${url.search}`, headers: endToEnd(req.headers), setHost: false, agent: false, timeout: ctx.idleMs });
    up.on("socket", (s) => ctx.track(s));
    up.on("timeout", () => up.destroy(new Error("idle")));
    up.on("response", (r) => {
      res.writeHead(r.statusCode ?? 502, endToEnd(r.headers));
      r.pipe(res);
    });
    up.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain", connection: "close" }).end(`microship: ${target} did not answer.\n`);
      else res.destroy();
    });
    req.pipe(up);
  });
}

function endToEnd(headers: IncomingMessage["headers"]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, fail) => (t = setTimeout(() => fail(new Error("timeout")), ms)))]).finally(() => clearTimeout(t));
}
