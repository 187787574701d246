import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import type { DeployInput } from "../../../src/core/deployer.ts";
import { hypemanParts } from "../../../src/deploy/hypeman/hypeman-parts.ts";
import { createDeployProxy, type DeployProxy } from "../../../src/deploy/proxy/deploy-proxy.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { startFakeIngress, type FakeIngress } from "../../helpers/hypeman-fake/fake-ingress.ts";
import { ScriptedBuilder } from "../../helpers/pipeline-doubles.ts";
import { makeTestCa, type TestCa } from "../../helpers/test-certs.ts";

// Hypeman's ingress listening with TLS only, on 127.0.0.1 with a certificate for *.preview.test
// (not for its address) signed by a CA made here: microship forwards over TLS, checking the
// certificate for the preview's own name.
describe("the wake layer forwards to an https ingress, its certificate checked for the preview's name", () => {
  const domain = "preview.test";
  const digest = `sha256:${"e".repeat(64)}`;
  let fake: HypemanFake;
  let ca: TestCa;
  let good: FakeIngress;
  let wrongName: FakeIngress;
  let instance: string;
  const fronts: Array<{ server: Server; proxy: DeployProxy }> = [];
  const warnings: unknown[] = [];
  const log = { warn: (o: unknown) => void warnings.push(o), info() {}, error() {}, debug() {}, child() { return log; } } as never;

  /** microship's front listener with the wake layer over `ingressUrl`; returns a GET through it. */
  async function front(ingressUrl: string, ingressCa?: string) {
    const parts = hypemanParts({ baseURL: fake.url, apiKey: fake.token(), domain, ingressUrl, ingressCa, tuning: { wake: { listTtlMs: 5_000 } } });
    const proxy = createDeployProxy(parts.wakeRoutes!, { log });
    const server = createServer((req, res) => proxy.handle(req, res, () => res.end("microship's own page")));
    proxy.attach(server);
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    fronts.push({ server, proxy });
    const port = (server.address() as AddressInfo).port;
    const get = (host: string) =>
      new Promise<{ status: number; body: string; seenHost: unknown }>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path: "/", headers: { host } }, (res) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode!, body, seenHost: res.headers["x-seen-host"] }));
        });
        req.on("error", reject);
        req.end();
      });
    const upgrade = (host: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect(port, "127.0.0.1", () => s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`));
        let text = "";
        s.on("data", (c) => (text += c));
        s.on("close", () => resolve(text));
        s.on("error", reject);
      });
    return { get, upgrade };
  }

  before(async () => {
    ca = makeTestCa();
    fake = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest })), registry: "registry.test" });
    good = await startFakeIngress(fake.deploy, { tls: ca.issue([`*.${domain}`]) });
    wrongName = await startFakeIngress(fake.deploy, { tls: ca.issue(["*.other.test", "IP:127.0.0.1"]) });
    const parts = hypemanParts({ baseURL: fake.url, apiKey: fake.token(), domain, ingressUrl: good.url, tuning: { deployer: { pollMs: 5, healthTimeoutMs: 5_000, imageTimeoutMs: 5_000 } } });
    const input: DeployInput = {
      owner: "octo", repo: "shop", installationId: 7, app: null, sha: "a".repeat(40), expiresAt: null, idleMinutes: 1,
      target: { kind: "preview", environment: "preview/pr-1", slug: "pr-1", transient: true, production: false },
      imageRef: `registry.test/octo/shop@${digest}`, digest, port: 3000, health: "/", env: {}, signal: AbortSignal.timeout(10_000), log: () => {},
    };
    ({ instance } = await parts.deployer.deploy(input));
  });
  after(async () => {
    for (const f of fronts) {
      f.server.closeAllConnections();
      await new Promise((ok) => f.server.close(ok));
    }
    await good?.close();
    await wrongName?.close();
    await fake?.close();
    ca?.close();
  });

  test("with the CA given, requests and upgrades go through, SNI is the preview's host, and sequential requests share one TLS connection", async () => {
    const { get, upgrade } = await front(good.url, ca.cert);
    const host = `${instance}.${domain}`;
    for (let i = 0; i < 3; i++) {
      const r = await get(host);
      assert.equal(r.status, 200);
      assert.equal(r.body, `instance ${instance} port 3000`);
      assert.equal(r.seenHost, host, "Host kept");
    }
    assert.deepEqual(good.servernames, [host], "one connection, kept alive, named for the preview");
    assert.match((await upgrade(host)).split("\r\n")[0]!, /^HTTP\/1\.1 101 /);
    assert.equal(good.requests.filter((r) => r.upgrade && r.status === 101).length, 1);
    assert.equal(warnings.length, 0);
  });

  test("without the CA (Node's store knows it not), microship's error page and nothing forwarded; the log says why, once", async () => {
    const { get } = await front(good.url);
    const before = good.requests.length;
    const warned = warnings.length;
    for (let i = 0; i < 2; i++) {
      const r = await get(`${instance}.${domain}`);
      assert.equal(r.status, 502);
      assert.equal(r.body, "This deployment is not answering right now.\n");
    }
    assert.equal(good.requests.length, before, "no request reached the ingress");
    assert.equal(warnings.length, warned + 1, "said once, not per request");
    assert.match(JSON.stringify(warnings.at(-1)), /SELF_SIGNED|UNABLE_TO|CERT/);
  });

  test("with the CA but a certificate for another name (even one naming the ingress's address), refused the same way", async () => {
    const { get } = await front(wrongName.url, ca.cert);
    const r = await get(`${instance}.${domain}`);
    assert.equal(r.status, 502);
    assert.equal(r.body, "This deployment is not answering right now.\n");
    assert.equal(wrongName.requests.length, 0, "no request reached the ingress");
  });
});
