import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { request } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGitHubFake, type GitHubFake } from "../fakes/github/github-fake.ts";
import { appCredentials } from "../fakes/app-credentials.ts";
import { loadExample, sendWebhook, sign } from "../fakes/webhooks.ts";
import { assertHealthy, probeHealth, startAppChild, streamPost, watchRss, type AppChild } from "./http-child.ts";
import { webhookBodyLimit } from "../../src/http/webhook-body-limit.ts";

const GiB = 1024 ** 3;
const creds = appCredentials();
let fake: GitHubFake;
let app: AppChild;
let dataDir: string;

before(async () => {
  fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  dataDir = await mkdtemp(join(tmpdir(), "ms-sec-body-"));
  app = await startAppChild({
    APP_ID: String(creds.appId), PRIVATE_KEY: creds.privateKeyPem, WEBHOOK_SECRET: creds.webhookSecret, GHE_HOST: fake.host, GHE_PROTOCOL: "http",
    PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", MICROSHIP_DATA_DIR: dataDir, MICROSHIP_BUILDER: "host",
  });
});

after(async () => {
  await app?.stop();
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const forgedHeaders = () => ({
  "content-type": "application/json",
  "x-github-event": "push",
  "x-github-delivery": crypto.randomUUID(),
  "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
});

for (const chunked of [false, true]) {
  const how = chunked ? "chunked, with no content-length" : "with its content-length";
  test(`a forged 1 GiB webhook body sent ${how} gets 413 at once; the app's memory stays flat and /healthz keeps answering`, async (t) => {
    const rss = watchRss(app, 600);
    const health = probeHealth(app.url);
  await health.ready;
    const sent = await streamPost(`${app.url}/api/github/webhooks`, { bytes: GiB, chunked, headers: forgedHeaders(), timeoutMs: 15_000, first: Buffer.from('{"zen":"') });
    await new Promise((r) => setTimeout(r, 700));
    const probed = await health.stop();
    const mem = rss.stop();
    t.diagnostic(`answer ${sent.status} after ${sent.ms.toFixed(0)} ms and ${sent.sentBytes} bytes; RSS +${mem.delta.toFixed(1)} MiB; /healthz p90 ${probed.p90.toFixed(1)} ms, slowest ${probed.max.toFixed(1)} ms of ${probed.count}`);
    assert.equal(mem.killed, false, `the app grew by over 600 MiB while reading the body (${sent.sentBytes} bytes sent)`);
    assert.equal(sent.status, 413, `expected 413, got ${sent.status} (${sent.error ?? sent.body}) after ${sent.sentBytes} bytes`);
    // What it read is bounded by the 25 MiB cap (plus socket buffers), far below the 1 GiB sent at it.
    assert.ok(sent.sentBytes < 200 * 1024 ** 2, `the client could push ${sent.sentBytes} bytes before the answer`);
    assert.ok(mem.delta < 150, `RSS grew by ${mem.delta.toFixed(0)} MiB`);
    // Measured 15 to 120 ms; the old code answered only after reading all it was sent (or 202 at 9 s).
    assert.ok(sent.ms < 3_000, `413 took ${sent.ms.toFixed(0)} ms`);
    assertHealthy(probed, assert);
    const after: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      assert.equal((await fetch(`${app.url}/healthz`)).status, 200);
      after.push(performance.now() - started);
    }
    assert.ok(after.sort((a, b) => a - b)[2]! < 100, `/healthz after the attack: ${after.map((n) => n.toFixed(1)).join(", ")} ms`);
  });
}

test("a content-length just over 25 MiB is refused before any byte is read, even with a valid signature", async () => {
  const body = Buffer.alloc(25 * 1024 * 1024 + 1, " ");
  const sent = await streamPost(`${app.url}/api/github/webhooks`, {
    bytes: body.length, chunked: false, timeoutMs: 10_000,
    headers: { ...forgedHeaders(), "x-hub-signature-256": sign(creds.webhookSecret, body) },
  });
  assert.equal(sent.status, 413);
  assert.equal(sent.headers["x-content-type-options"], "nosniff", "the refusal carries the security headers too");
  assert.match(String(sent.headers["content-security-policy"]), /default-src 'none'/);
});

test("a webhook path with a trailing slash is bounded too (Probot normalises it, so must the guard)", async () => {
  const sent = await streamPost(`${app.url}/api/github/webhooks/`, { bytes: GiB, chunked: true, headers: forgedHeaders(), timeoutMs: 15_000 });
  assert.equal(sent.status, 413);
});

test("a really signed webhook, sent chunked with a multi-byte character split between chunks, is still verified and accepted", async () => {
  const payload = loadExample("ping");
  payload.zen = `¡héllo wörld ✓ ${"x".repeat(2 * 1024 * 1024)}`;
  const body = Buffer.from(JSON.stringify(payload));
  const split = body.indexOf(Buffer.from("✓")) + 1;
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${app.url}/api/github/webhooks`, {
      method: "POST",
      headers: {
        "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": crypto.randomUUID(),
        "x-hub-signature-256": sign(creds.webhookSecret, body), "transfer-encoding": "chunked",
      },
    });
    req.on("response", (res) => (res.resume(), resolve(res.statusCode!)));
    req.on("error", reject);
    req.write(body.subarray(0, split));
    setTimeout(() => req.end(body.subarray(split)), 50);
  });
  assert.equal(status, 200);
});

test("a forged signature and a missing signature are refused", async () => {
  const payload = loadExample("ping");
  const forged = await sendWebhook(`${app.url}/api/github/webhooks`, { event: "ping", payload, secret: "not-the-secret" });
  assert.equal(forged.status, 400);
  const res = await fetch(`${app.url}/api/github/webhooks`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": crypto.randomUUID() },
    body: JSON.stringify(payload),
  });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /x-hub-signature-256/);
});

/** The guard alone on a bare server, for what the app's fixed limits make slow to reach. */
async function guarded(options: Parameters<typeof webhookBodyLimit>[0]): Promise<{ url: string; server: Server }> {
  const guard = webhookBodyLimit(options);
  const server = createServer((req, res) => guard(req, res, () => res.end("read\n")));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/`, server };
}

/** `count` bodies that send their first byte and then nothing more, until the test ends. */
function startBodies(t: { after(fn: () => void): void }, url: string, count: number, headers: Record<string, string>): void {
  const open = Array.from({ length: count }, () => {
    const req = request(url, { method: "POST", headers });
    req.on("error", () => undefined);
    req.write("{");
    return req;
  });
  t.after(() => open.forEach((r) => r.destroy()));
}

test("while bodies already hold the memory budget, another large body is turned away with 503 instead of buffered", async (t) => {
  const { url, server } = await guarded({ maxBytes: 1024 * 1024, budgetBytes: 2 * 1024 * 1024, readTimeoutMs: 5_000 });
  t.after(() => (server.closeAllConnections(), server.close()));
  // Two bodies that declare, and so hold, most of the budget while they are read.
  startBodies(t, url, 2, { "content-length": String(1000 * 1024) });
  await new Promise((r) => setTimeout(r, 200));
  const declared = await streamPost(url, { bytes: 100 * 1024, chunked: false, headers: {}, timeoutMs: 5_000 });
  assert.equal(declared.status, 503);
  const chunked = await streamPost(url, { bytes: 200 * 1024, chunked: true, headers: {}, timeoutMs: 5_000 });
  assert.equal(chunked.status, 503, "a chunked body is refused once what it has sent no longer fits");
});

test("bodies trickling in a byte at a time hold no budget: a real delivery still gets through", async (t) => {
  const { url, server } = await guarded({ maxBytes: 1024 * 1024, budgetBytes: 2 * 1024 * 1024, readTimeoutMs: 5_000 });
  t.after(() => (server.closeAllConnections(), server.close()));
  startBodies(t, url, 8, { "transfer-encoding": "chunked" });
  await new Promise((r) => setTimeout(r, 200));
  const delivery = await streamPost(url, { bytes: 64 * 1024, chunked: false, headers: {}, timeoutMs: 5_000 });
  assert.equal(delivery.status, 200);
});

test("a body that trickles in is cut off at the read deadline", async (t) => {
  const { url, server } = await guarded({ readTimeoutMs: 300 });
  t.after(() => (server.closeAllConnections(), server.close()));
  const started = performance.now();
  const outcome = await new Promise<string>((resolve) => {
    const req = request(url, { method: "POST", headers: { "transfer-encoding": "chunked" } });
    req.on("response", (res) => resolve(`answered ${res.statusCode}`));
    req.on("error", () => resolve("closed"));
    req.write("{");
  });
  assert.equal(outcome, "answered 408");
  assert.ok(performance.now() - started < 5_000);
});
