import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { APIError, Hypeman } from "@onkernel/hypeman";
import type { DeployInput } from "../../../src/core/deployer.ts";
import { hypemanParts } from "../../../src/deploy/hypeman/hypeman-parts.ts";
import { createDeployProxy, type DeployProxy } from "../../../src/deploy/proxy/deploy-proxy.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { ScriptedBuilder } from "../../helpers/pipeline-doubles.ts";

// microship as the wake layer in front of Hypeman's ingress (the fake's own listener), with one
// clock for Hypeman's auto-standby and microship's holds, moved by the tests instead of waiting.
describe("hypeman previews sleep when idle and wake on their first request", () => {
  let fake: HypemanFake;
  let proxy: DeployProxy;
  let front: Server;
  let port = 0;
  let now = Date.now();
  const domain = "preview.test";
  const digest = `sha256:${"d".repeat(64)}`;
  const signal = () => AbortSignal.timeout(10_000);
  const tuning = { deployer: { pollMs: 5, healthTimeoutMs: 5_000, imageTimeoutMs: 5_000 }, wake: { now: () => now, listTtlMs: 5_000, wakeBackoffMs: 30_000 } };
  let parts: ReturnType<typeof hypemanParts>;
  const calls = (end: string) => fake.requests.filter((r) => r.path.endsWith(end)).length;
  const instanceNamed = (name: string) => [...fake.deploy.instances.values()].find((i) => i.name === name)!;

  async function deploy(slug: string, o: { environment?: boolean; parts?: ReturnType<typeof hypemanParts>; repo?: string } = {}): Promise<string> {
    const target = o.environment
      ? { kind: "environment" as const, environment: slug, slug, transient: false, production: slug === "production" }
      : { kind: "preview" as const, environment: `preview/${slug}`, slug, transient: true, production: false };
    const input: DeployInput = {
      owner: "octo", repo: o.repo ?? "shop", installationId: 7, app: null, target, sha: "a".repeat(40), expiresAt: null, idleMinutes: o.environment ? null : 1,
      imageRef: `registry.test/octo/shop@${digest}`, digest, port: 3000, health: "/", env: {}, signal: signal(), log: () => {},
    };
    const { instance } = await (o.parts ?? parts).deployer.deploy(input);
    now += 1_000; // a host the last list didn't name is listed again once that list is a second old
    return instance;
  }

  function get(host: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/", headers: { host } }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  /** A WebSocket upgrade's status line and headers, raw. */
  function upgrade(host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(port, "127.0.0.1", () => s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`));
      let text = "";
      s.on("data", (c) => (text += c));
      s.on("close", () => resolve(text));
      s.on("error", reject);
    });
  }

  /** The next requests until the app answers (a restore is one HTTP call away): bounded, never timed. */
  async function untilServed(host: string): Promise<{ status: number; body: string }> {
    for (let i = 0; i < 200; i++) {
      const r = await get(host);
      if (r.status !== 503) return r;
      await new Promise((ok) => setTimeout(ok, 10));
    }
    throw new Error(`${host} never woke`);
  }

  before(async () => {
    fake = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest })), registry: "registry.test" });
    fake.deploy.clock = () => now;
    parts = hypemanParts({ baseURL: fake.url, apiKey: fake.token(), domain, ingressUrl: fake.ingress.url, tuning });
    proxy = createDeployProxy(parts.wakeRoutes!);
    front = createServer((req, res) => proxy.handle(req, res, () => res.end("microship's own page")));
    proxy.attach(front);
    await new Promise<void>((ok) => front.listen(0, "127.0.0.1", ok));
    port = (front.address() as AddressInfo).port;
  });
  after(async () => {
    front?.closeAllConnections();
    await new Promise((ok) => front?.close(ok));
    await fake?.close();
  });

  test("a preview gets auto_standby after its idle minutes; an environment never; without the wake layer nothing does", async () => {
    const policyOf = (name: string) => fake.deploy.created.find((c) => c.name === name)?.auto_standby;
    assert.deepEqual(policyOf(await deploy("pr-1")), { enabled: true, idle_timeout: "1m" });
    assert.equal(policyOf(await deploy("staging", { environment: true })), undefined);
    const off = hypemanParts({ baseURL: fake.url, apiKey: fake.token(), domain, tuning });
    assert.equal(off.wakeRoutes, null, "no ingress URL: no wake layer");
    assert.equal(policyOf(await deploy("pr-1", { parts: off, repo: "other" })), undefined, "and previews never sleep by themselves");
    // The fake refuses what Hypeman's validation would.
    const client = new Hypeman({ baseURL: fake.url, apiKey: fake.token(), maxRetries: 0, logLevel: "off" });
    await assert.rejects(
      client.instances.create({ name: "bad-policy", image: `registry.test/octo/shop@${digest}`, auto_standby: { enabled: true, idle_timeout: "5 minutes" } }),
      (err) => err instanceof APIError && err.status === 400 && /idle_timeout/.test(String((err.error as { message?: string }).message)),
    );
  });

  test("a running preview is forwarded to Hypeman's ingress with its Host kept, under one hold renewed only past its half", async () => {
    const instance = await deploy("pr-2");
    const host = `${instance}.${domain}`;
    const holds = calls(`/${instance}/auto-standby/hold`);
    const r = await get(host);
    assert.equal(r.status, 200);
    assert.equal(r.body, `instance ${instance} port 3000`);
    assert.equal(r.headers["x-seen-host"], host);
    assert.equal(r.headers["x-seen-forwarded-for"], "127.0.0.1");
    for (let i = 0; i < 3; i++) assert.equal((await get(host)).status, 200);
    assert.equal(calls(`/${instance}/auto-standby/hold`), holds + 1, "one hold for four requests");
    const client = new Hypeman({ baseURL: fake.url, apiKey: fake.token(), maxRetries: 0, logLevel: "off" });
    assert.equal((await client.instances.autoStandby.status(instance)).hold_until, new Date(now + 60_000).toISOString());
    now += 31_000;
    assert.equal((await get(host)).status, 200);
    assert.equal(calls(`/${instance}/auto-standby/hold`), holds + 2, "past half of the hold: renewed");
    assert.equal(fake.deploy.idle(instance), false, "held: Hypeman's controller leaves it running");
  });

  test("asleep: concurrent requests get the waking page and one restore, then the app answers", async () => {
    const instance = await deploy("pr-3");
    const host = `${instance}.${domain}`;
    assert.equal((await get(host)).status, 200);
    now += 120_000;
    assert.equal(fake.deploy.idle(instance), true, "idle past its timeout, its hold over: standby");
    const direct = fake.ingress.requests.length;
    // The restore answers only once every request has had its answer: they all came while it ran.
    let loaded = () => {};
    fake.deploy.faults.restoreGate = new Promise<void>((ok) => (loaded = ok));
    const answers = await Promise.all(Array.from({ length: 6 }, () => get(host)));
    fake.deploy.faults.restoreGate = null;
    loaded();
    for (const a of answers) {
      assert.equal(a.status, 503);
      assert.match(a.body, /Waking up/);
      assert.equal(a.headers["retry-after"], "5");
    }
    assert.equal(fake.ingress.requests.length, direct, "nothing reached the ingress while asleep");
    const served = await untilServed(host);
    assert.equal(served.status, 200);
    assert.equal(served.body, `instance ${instance} port 3000`);
    assert.equal(calls(`/${instance}/restore`), 1, "one restore for all of them");
    assert.equal(instanceNamed(instance).state, "Running");
  });

  test("a restore that fails gives the wake-failed page until its backoff ends, then it is tried again", async () => {
    const instance = await deploy("pr-4");
    const host = `${instance}.${domain}`;
    assert.equal((await get(host)).status, 200);
    now += 120_000;
    assert.equal(fake.deploy.idle(instance), true);
    fake.deploy.faults.restoreErrors = 1;
    assert.match((await get(host)).body, /Waking up/);
    let failed = await get(host);
    for (let i = 0; i < 200 && /Waking up/.test(failed.body); i++) failed = await get(host);
    assert.equal(failed.status, 503);
    assert.match(failed.body, /Could not wake up/);
    assert.equal(failed.headers["retry-after"], "30");
    assert.equal(calls(`/${instance}/restore`), 1, "not tried again within the backoff");
    now += 31_000;
    assert.equal((await untilServed(host)).status, 200);
    assert.equal(calls(`/${instance}/restore`), 2);
  });

  test("an environment put to sleep from the dashboard (no policy, no hold) wakes on its next request", async () => {
    const instance = await deploy("qa", { environment: true });
    const host = `${instance}.${domain}`;
    assert.equal((await get(host)).status, 200);
    assert.equal(await parts.deployer.sleep({ owner: "octo", repo: "shop", instance }, signal()), "sleeping");
    now += 31_000;
    assert.match((await get(host)).body, /Waking up/);
    assert.equal((await untilServed(host)).status, 200);
    assert.equal(calls(`/${instance}/restore`), 1);
  });

  test("a host that isn't one of microship's instances gets the 404 page and costs no Hypeman call", async () => {
    const client = new Hypeman({ baseURL: fake.url, apiKey: fake.token(), maxRetries: 0, logLevel: "off" });
    await client.instances.create({ name: "stranger", image: `registry.test/octo/shop@${digest}` });
    now += 10_000;
    assert.equal((await get(`made-up.${domain}`)).status, 404, "one list, then known to be nobody's");
    const hypemanCalls = fake.requests.length, ingressCalls = fake.ingress.requests.length;
    const hosts = [
      `stranger.${domain}`, `made-up.${domain}`, `another-made-up.${domain}:80`, `${"a".repeat(300)}.${domain}`, `bad_name.${domain}`,
      `<script>x</script>.${domain}`, `two.labels.${domain}`, `x.p99999.${domain}`, `x.p0.${domain}`, `%2e.${domain}`, `ü.${domain}`,
    ];
    for (const host of hosts) {
      const r = await get(host);
      assert.equal(r.status, 404, host);
      assert.match(r.body, /No deployment here/);
      assert.doesNotMatch(r.body, /<script>/);
    }
    assert.equal((await upgrade(`stranger.${domain}`)).split("\r\n")[0], "HTTP/1.1 404 Not Found");
    assert.equal(fake.requests.length, hypemanCalls, "no Hypeman call for any of them");
    assert.equal(fake.ingress.requests.length, ingressCalls, "and nothing forwarded");
    assert.equal((await get("microship.example.com")).body, "microship's own page");
  });

  test("a WebSocket upgrade reaches the ingress while running and gets a 503 while asleep, which wakes it", async () => {
    const instance = await deploy("pr-5");
    const host = `${instance}.${domain}`;
    const open = await upgrade(host);
    assert.equal(open.split("\r\n")[0], "HTTP/1.1 101 Switching Protocols");
    assert.match(open, new RegExp(`x-instance: ${instance}`, "i"));
    now += 120_000;
    assert.equal(fake.deploy.idle(instance), true);
    const asleep = await upgrade(host);
    assert.equal(asleep.split("\r\n")[0], "HTTP/1.1 503 Service Unavailable");
    assert.match(asleep, /Retry-After: 5/);
    assert.equal((await untilServed(host)).status, 200);
    assert.equal(calls(`/${instance}/restore`), 1);
  });

  test("Hypeman's API down: a known running host still reaches the ingress; an unknown one is a 502, not a 404", async () => {
    const instance = await deploy("pr-7");
    const host = `${instance}.${domain}`;
    assert.equal((await get(host)).status, 200);
    now += 6_000;
    fake.faults.unavailable = true;
    try {
      const known = await get(host);
      assert.equal(known.status, 200, "its hold stands and the list's last word is kept");
      assert.equal(known.body, `instance ${instance} port 3000`);
      now += 2_000;
      const unknown = await get(`not-listed-yet.${domain}`);
      assert.equal(unknown.status, 502);
      assert.match(unknown.body, /not answering/);
    } finally {
      fake.faults.unavailable = false;
    }
  });

  test("an app on another port answers at {instance}.p{port}.{domain}", async () => {
    const target = { kind: "preview" as const, environment: "preview/pr-6", slug: "pr-6", transient: true, production: false };
    const { instance } = await parts.deployer.deploy({
      owner: "octo", repo: "shop", installationId: 7, app: null, target, sha: "a".repeat(40), expiresAt: null, idleMinutes: 1,
      imageRef: `registry.test/octo/shop@${digest}`, digest, port: 8080, health: "/", env: { PORT: "8080" }, signal: signal(), log: () => {},
    });
    now += 10_000;
    const r = await get(`${instance}.P8080.${domain}`);
    assert.equal(r.status, 200);
    assert.equal(r.body, `instance ${instance} port 8080`);
  });
});
