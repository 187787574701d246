import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { startHarness, type Harness } from "../../helpers/microship-harness.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

// microship itself with MICROSHIP_DEPLOYER=microvm: the deploy proxy is mounted before its own routes.
let h: Harness;
before(async () => {
  h = await startHarness({}, { MICROSHIP_DEPLOYER: "microvm" });
});
after(() => cleanupAll(() => h?.stop()));

function get(host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: new URL(h.app.url).port, path, headers: { host } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("a deployment host never reaches microship's own routes; microship's host does", async () => {
  const port = new URL(h.app.url).port;
  assert.equal((await get(`127.0.0.1:${port}`, "/healthz")).body, "ok\n");
  const r = await get(`pr-1-shop-abcdef.localhost:${port}`, "/healthz");
  assert.equal(r.status, 404);
  assert.match(r.body, /No deployment here/);
  assert.equal((await get(`a.b.localhost:${port}`, "/api/github/webhooks")).status, 404);
});
