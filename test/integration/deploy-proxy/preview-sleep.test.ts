import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { RouteTable } from "../../../src/deploy/proxy/route-table.ts";
import { createDeployProxy, type DeployProxy } from "../../../src/deploy/proxy/deploy-proxy.ts";
import { PreviewSleeper } from "../../../src/deploy/microvm/preview-sleeper.ts";
import type { VmRecord } from "../../../src/deploy/microvm/vm-record.ts";
import { InstanceNotFoundError } from "../../../src/core/deployer.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

// Sleeping previews through the deploy proxy as microship mounts it: plain local HTTP servers stand
// for the VMs (sleep closes one, a wake starts a new one), the clock is a fake one.
let now = 1_000_000;
const routes = new RouteTable({ domain: "localhost", now: () => now });
let proxy: DeployProxy;
let front: Server;
const servers = new Map<string, Server>();
const records = new Map<string, VmRecord>();
const counts = { sleeps: 0, wakes: 0 };
let gate: Promise<void> = Promise.resolve();
let failNextWake = false;
const warnings: string[] = [];
const log = { info() {}, debug() {}, error() {}, warn: (_o: unknown, msg?: string) => warnings.push(msg ?? ""), child: () => log };
const locks = new Map<string, Promise<unknown>>();

async function startApp(rec: VmRecord): Promise<void> {
  const s = createServer((_req, res) => res.end(`app ${rec.instance}`));
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  servers.set(rec.instance, s);
  routes.set({ name: rec.name, instance: rec.instance, port: (s.address() as AddressInfo).port });
  rec.state = "running";
}

function stopApp(instance: string): void {
  const s = servers.get(instance);
  s?.closeAllConnections();
  s?.close();
  servers.delete(instance);
}

const sleeper = new PreviewSleeper({
  routes, log, records: () => records.values(),
  serial: <T>(name: string, fn: () => Promise<T>) => {
    const run = (locks.get(name) ?? Promise.resolve()).catch(() => undefined).then(fn);
    locks.set(name, run);
    return run;
  },
  async putToSleep(rec) {
    counts.sleeps++;
    rec.state = "sleeping";
    routes.sleep(rec.name, rec.instance);
    stopApp(rec.instance);
  },
  async wake(rec) {
    counts.wakes++;
    await gate;
    if (failNextWake) {
      failNextWake = false;
      throw new Error("health check failed");
    }
    await startApp(rec);
  },
}, { checkEveryMs: 10, wakeBackoffMs: 30_000 });

async function preview(name: string, idleMinutes: number | null): Promise<VmRecord> {
  const rec = { name, instance: `${name}-v1`, idleMinutes, state: "starting", owner: "octo", repo: "shop" } as VmRecord;
  records.set(rec.instance, rec);
  await startApp(rec);
  return rec;
}

function get(host: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: (front.address() as AddressInfo).port, path: "/", headers: { host } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
  assert.ok(cond(), "condition never held");
}

before(async () => {
  proxy = createDeployProxy(routes);
  front = createServer((req, res) => proxy.handle(req, res, () => res.end("microship's own page")));
  proxy.attach(front);
  await new Promise<void>((ok) => front.listen(0, "127.0.0.1", ok));
});

after(() => cleanupAll(() => sleeper.close(), () => proxy.close(), () => { front.closeAllConnections(); front.close(); }, ...[...servers.keys()].map((k) => () => stopApp(k))));

test("a preview sleeps only after idleMinutes without a request; an environment never sleeps", async () => {
  const rec = await preview("pr-1-shop-aaaaaa", 1);
  const env = await preview("main-shop-bbbbbb", null);
  now += 40_000;
  assert.equal((await get("pr-1-shop-aaaaaa.localhost")).body, "app pr-1-shop-aaaaaa-v1");
  now += 40_000; // 80 s since the deploy, 40 s since the last request
  await sleeper.checkIdle();
  assert.equal(rec.state, "running");
  now += 21_000;
  now += 10 * 60_000;
  await sleeper.checkIdle();
  assert.equal(rec.state, "sleeping");
  assert.equal(routes.get("pr-1-shop-aaaaaa")?.sleeping, true);
  assert.equal(servers.has(rec.instance), false, "the sleeping preview's app was stopped");
  assert.equal(env.state, "running");
  assert.equal((await get("main-shop-bbbbbb.localhost")).body, "app main-shop-bbbbbb-v1");
});

test("requests to a sleeping preview get a waking page at once; many of them start one wake; then the app answers", async () => {
  let open!: () => void;
  gate = new Promise((ok) => (open = ok));
  const before = counts.wakes;
  const pages = await Promise.all(Array.from({ length: 8 }, () => get("pr-1-shop-aaaaaa.localhost")));
  for (const p of pages) {
    assert.equal(p.status, 503);
    assert.equal(p.headers["retry-after"], "5");
    assert.equal(p.headers["cache-control"], "no-store");
    assert.match(p.body, /<meta http-equiv="refresh" content="5">/);
    assert.match(p.body, /Waking up/);
    assert.doesNotMatch(p.body, /<script/i);
  }
  assert.equal(counts.wakes, before + 1, "one wake for all the concurrent requests");
  open();
  await until(() => routes.get("pr-1-shop-aaaaaa")?.sleeping !== true);
  const r = await get("pr-1-shop-aaaaaa.localhost");
  assert.equal(r.status, 200);
  assert.equal(r.body, "app pr-1-shop-aaaaaa-v1");
  assert.equal(counts.wakes, before + 1);
});

test("a wake that fails shows an error page, is logged, and is tried again only after the backoff", async () => {
  gate = Promise.resolve();
  const rec = records.get("pr-1-shop-aaaaaa-v1")!;
  now += 2 * 60_000;
  await sleeper.checkIdle();
  assert.equal(rec.state, "sleeping");
  failNextWake = true;
  const wakes = counts.wakes;
  assert.equal((await get("pr-1-shop-aaaaaa.localhost")).status, 503);
  await until(() => warnings.includes("a sleeping preview did not wake up"));
  const failed = await get("pr-1-shop-aaaaaa.localhost");
  assert.equal(failed.status, 503);
  assert.match(failed.body, /Could not wake up/);
  assert.equal(failed.headers["retry-after"], "30");
  now += 20_000;
  assert.match((await get("pr-1-shop-aaaaaa.localhost")).body, /Could not wake up/);
  assert.equal(counts.wakes, wakes + 1, "no new try inside the backoff");
  now += 11_000;
  assert.match((await get("pr-1-shop-aaaaaa.localhost")).body, /Waking up/);
  await until(() => routes.get("pr-1-shop-aaaaaa")?.sleeping !== true);
  assert.equal(counts.wakes, wakes + 2);
  assert.equal((await get("pr-1-shop-aaaaaa.localhost")).body, "app pr-1-shop-aaaaaa-v1");
});

test("a WebSocket upgrade to a sleeping preview gets a 503 and wakes it", async () => {
  const rec = await preview("pr-2-shop-cccccc", 1);
  now += 2 * 60_000;
  await sleeper.checkIdle();
  assert.equal(rec.state, "sleeping");
  const head = await new Promise<string>((resolve, reject) => {
    const s = connect((front.address() as AddressInfo).port, "127.0.0.1", () => {
      s.write("GET /ws HTTP/1.1\r\nHost: pr-2-shop-cccccc.localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    });
    let got = "";
    s.on("data", (b) => (got += b));
    s.on("end", () => resolve(got));
    s.on("error", reject);
  });
  assert.match(head, /^HTTP\/1\.1 503 /);
  assert.match(head, /Retry-After: 5/);
  await until(() => rec.state === "running");
  assert.equal((await get("pr-2-shop-cccccc.localhost")).body, "app pr-2-shop-cccccc-v1");
});

test("the timer puts idle previews to sleep without being called", async () => {
  const rec = await preview("pr-3-shop-dddddd", 1);
  now += 61_000;
  await until(() => rec.state === "sleeping");
  assert.equal(routes.get("pr-3-shop-dddddd")?.sleeping, true);
});

test("a writer's sleep: an environment too, at once, under the name's lock; twice is one sleep; the next request wakes it", async () => {
  const rec = await preview("main-shop-eeeeee", null);
  const key = { owner: "octo", repo: "shop", instance: rec.instance };
  let unlock!: () => void;
  const held = sleeper["h"].serial(rec.name, () => new Promise<void>((ok) => (unlock = ok)));
  const sleeps = counts.sleeps;
  const slept = sleeper.sleepNow(key);
  await sleep(20);
  assert.equal(rec.state, "running", "not while a deploy of the name holds its lock");
  unlock();
  await held;
  assert.equal(await slept, "sleeping");
  assert.equal(routes.get(rec.name)?.sleeping, true);
  assert.equal(await sleeper.sleepNow(key), "sleeping");
  assert.equal(counts.sleeps, sleeps + 1, "asleep already: left so");
  assert.equal((await get("main-shop-eeeeee.localhost")).status, 503);
  await until(() => rec.state === "running");
  assert.equal((await get("main-shop-eeeeee.localhost")).body, "app main-shop-eeeeee-v1");
});

test("a writer's sleep or wake of what isn't there, or of another repository, is not found; a failed one can neither", async () => {
  const rec = await preview("pr-6-shop-ffffff", 1);
  await assert.rejects(sleeper.sleepNow({ owner: "octo", repo: "shop", instance: "pr-6-shop-ffffff-v9" }), InstanceNotFoundError);
  await assert.rejects(sleeper.wakeNow({ owner: "evil", repo: "shop", instance: rec.instance }, AbortSignal.timeout(1000)), InstanceNotFoundError);
  rec.state = "failed";
  await assert.rejects(sleeper.sleepNow({ owner: "octo", repo: "shop", instance: rec.instance }), /is failed; only a running instance can sleep/);
  await assert.rejects(sleeper.wakeNow({ owner: "octo", repo: "shop", instance: rec.instance }, AbortSignal.timeout(1000)), /only a sleeping instance can wake up/);
});

test("a writer's wake is the wake a request starts (one for both), tries again inside a failed wake's backoff, and its signal ends only the wait", async () => {
  const rec = await preview("pr-7-shop-gggggg", 1);
  const key = { owner: "octo", repo: "shop", instance: rec.instance };
  await sleeper.sleepNow(key);
  failNextWake = true;
  assert.equal((await get("pr-7-shop-gggggg.localhost")).status, 503);
  await until(() => warnings.filter((w) => w === "a sleeping preview did not wake up").length >= 2);
  assert.match((await get("pr-7-shop-gggggg.localhost")).body, /Could not wake up/, "requests wait out the backoff");
  let open!: () => void;
  gate = new Promise((ok) => (open = ok));
  const wakes = counts.wakes;
  const waited = new AbortController();
  const woken = sleeper.wakeNow(key, waited.signal);
  await until(() => counts.wakes === wakes + 1);
  assert.match((await get("pr-7-shop-gggggg.localhost")).body, /Waking up/, "a request during it joins it");
  waited.abort();
  assert.equal(await woken, "starting", "the wait ended, the wake goes on");
  assert.equal(rec.state, "sleeping");
  open();
  assert.equal(await sleeper.wakeNow(key, AbortSignal.timeout(5000)), "running");
  assert.equal(counts.wakes, wakes + 1, "one wake for the writer's two and the request");
  assert.equal(await sleeper.wakeNow(key, AbortSignal.timeout(5000)), "running", "awake already: left so");
  assert.equal((await get("pr-7-shop-gggggg.localhost")).body, "app pr-7-shop-gggggg-v1");
});
