import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { RouteTable } from "../../../src/deploy/proxy/route-table.ts";
import { createDeployProxy, type DeployProxy } from "../../../src/deploy/proxy/deploy-proxy.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

// The deploy proxy as microship mounts it (first, before its own routes), against plain local
// HTTP servers standing for deploy VMs.
const routes = new RouteTable({ domain: "localhost" });
let proxy: DeployProxy;
let front: Server;
let frontPort = 0;
const backends: Server[] = [];

/** A backend answering its own text, echoing WebSocket text frames (RFC 6455, short frames only). */
async function backend(text: string): Promise<number> {
  const s = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain", "x-seen-host": req.headers.host ?? "", "x-forwarded-for-seen": String(req.headers["x-forwarded-for"] ?? "") });
    res.end(text);
  });
  s.on("upgrade", (req, socket: Duplex) => {
    const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.on("data", (b: Buffer) => {
      if ((b[0]! & 0x0f) !== 1) return socket.end();
      const len = b[1]! & 0x7f;
      const mask = b.subarray(2, 6);
      const payload = Buffer.from(b.subarray(6, 6 + len).map((x, i) => x ^ mask[i % 4]!));
      const reply = Buffer.from(`${text}:${payload.toString()}`);
      socket.write(Buffer.concat([Buffer.from([0x81, reply.length]), reply]));
    });
  });
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  backends.push(s);
  return (s.address() as AddressInfo).port;
}

function get(host: string, path = "/"): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: frontPort, path, headers: { host } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

before(async () => {
  proxy = createDeployProxy(routes);
  front = createServer((req, res) => proxy.handle(req, res, () => res.end("microship's own page")));
  proxy.attach(front);
  await new Promise<void>((ok) => front.listen(0, "127.0.0.1", ok));
  frontPort = (front.address() as AddressInfo).port;
});

after(() => cleanupAll(() => proxy.close(), () => { front.closeAllConnections(); front.close(); }, ...backends.map((b) => () => { b.closeAllConnections(); b.close(); })));

test("a deployment host reaches its backend with its Host kept; other hosts reach microship's own routes", async () => {
  routes.set({ name: "pr-1-shop-aaaaaa", instance: "v1", port: await backend("v1") });
  const r = await get("pr-1-shop-aaaaaa.localhost:3000");
  assert.equal(r.status, 200);
  assert.equal(r.body, "v1");
  assert.equal(r.headers["x-seen-host"], "pr-1-shop-aaaaaa.localhost:3000");
  assert.equal(r.headers["x-forwarded-for-seen"], "127.0.0.1");
  assert.equal((await get(`127.0.0.1:${frontPort}`)).body, "microship's own page");
  assert.equal((await get("localhost:3000")).body, "microship's own page");
});

test("an unknown or malformed deployment host gets a 404 page without the Host's text, never microship's routes", async () => {
  const unknown = await get("nothing-here.localhost:3000", "/healthz");
  assert.equal(unknown.status, 404);
  assert.match(unknown.body, /No deployment here/);
  const hostile = await get("<script>alert(1)</script>.localhost");
  assert.equal(hostile.status, 404);
  assert.doesNotMatch(hostile.body, /script|alert/);
  assert.equal((await get(`${"a".repeat(2000)}.localhost`)).status, 404);
});

test("a route whose backend is gone answers 502", async () => {
  const port = await backend("gone");
  const s = backends.pop()!;
  await new Promise<void>((ok) => s.close(() => ok()));
  routes.set({ name: "pr-2-shop-bbbbbb", instance: "dead", port });
  assert.equal((await get("pr-2-shop-bbbbbb.localhost")).status, 502);
});

/** A WebSocket handshake and one text message by hand: fetch's WebSocket can't set the Host header. */
function wsExchange(host: string, message: string): Promise<{ status: number; reply: string | null }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: frontPort, path: "/socket", headers: { host, connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" } });
    req.on("upgrade", (res, socket) => {
      const mask = Buffer.from([1, 2, 3, 4]);
      const payload = Buffer.from(message).map((x, i) => x ^ mask[i % 4]!);
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload]));
      socket.once("data", (b: Buffer) => {
        socket.destroy();
        resolve({ status: res.statusCode!, reply: b.subarray(2, 2 + (b[1]! & 0x7f)).toString() });
      });
    });
    req.on("response", (res) => {
      res.resume();
      resolve({ status: res.statusCode!, reply: null });
    });
    req.on("error", reject);
    req.end();
  });
}

test("a WebSocket upgrade passes through to the backend; an unknown host's upgrade is refused", async () => {
  assert.deepEqual(await wsExchange("pr-1-shop-aaaaaa.localhost:3000", "ping"), { status: 101, reply: "v1:ping" });
  assert.deepEqual(await wsExchange("nothing-here.localhost", "ping"), { status: 404, reply: null });
});

test("moving a route under a steady loop of requests loses none", async () => {
  const name = "pr-3-shop-cccccc";
  routes.set({ name, instance: "old", port: await backend("old") });
  const seen: string[] = [];
  let stop = false;
  const loops = Array.from({ length: 8 }, async () => {
    while (!stop) {
      const r = await get(`${name}.localhost`);
      seen.push(r.status === 200 ? r.body : `status ${r.status}`);
    }
  });
  while (seen.length < 200) await new Promise((r) => setTimeout(r, 5));
  routes.set({ name, instance: "new", port: await backend("new") });
  const switchedAt = seen.length;
  while (seen.length < switchedAt + 200) await new Promise((r) => setTimeout(r, 5));
  stop = true;
  await Promise.all(loops);
  assert.deepEqual(seen.filter((s) => s !== "old" && s !== "new"), [], "every request answered by one of the two");
  assert.equal(seen.at(-1), "new");
  assert.ok(seen.slice(switchedAt + 20).every((s) => s === "new"), "after the move, only the new backend answers");
});
