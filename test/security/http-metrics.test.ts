import { test } from "node:test";
import assert from "node:assert/strict";
import { startHarness } from "../helpers/microship-harness.ts";

const TOKEN = "metrics-token-for-the-test-0123456789";

test("with MICROSHIP_METRICS_TOKEN, /metrics asks for the bearer token and refuses a wrong or missing one", async (t) => {
  const h = await startHarness({}, { MICROSHIP_METRICS_TOKEN: TOKEN });
  t.after(() => h.stop());
  const ask = (authorization?: string) => fetch(`${h.app.url}/metrics`, { headers: authorization ? { authorization } : {} });
  for (const auth of [undefined, "Bearer wrong", `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}`, TOKEN, "Bearer "]) {
    const res = await ask(auth);
    assert.equal(res.status, 401, String(auth));
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="metrics"');
    assert.doesNotMatch(await res.text(), /microship_/);
  }
  const ok = await ask(`Bearer ${TOKEN}`);
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /microship_builds/);
  assert.ok(!h.opLog().includes(TOKEN), "the token reaches no log");
});

test("with MICROSHIP_METRICS_PORT, /metrics moves to its own loopback listener and leaves the main port", async (t) => {
  const h = await startHarness({}, { MICROSHIP_METRICS_PORT: "0" });
  t.after(() => h.stop());
  assert.equal((await fetch(`${h.app.url}/metrics`)).status, 404);
  assert.ok(h.app.metricsUrl?.startsWith("http://127.0.0.1:"), String(h.app.metricsUrl));
  const res = await fetch(`${h.app.metricsUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /microship_builds/);
  assert.equal((await fetch(`${h.app.metricsUrl}/builds/x?exp=1&token=y`)).status, 404, "the metrics listener serves nothing else");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
});

test("with neither set, /metrics stays public on the main port, as before, and the start-up log says how to close it", async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  assert.equal((await fetch(`${h.app.url}/metrics`)).status, 200);
  assert.match(h.opLog(), /\/metrics is public on the main port: set MICROSHIP_METRICS_TOKEN or MICROSHIP_METRICS_PORT/);
});
