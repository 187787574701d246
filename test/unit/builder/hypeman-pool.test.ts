import { test } from "node:test";
import assert from "node:assert/strict";
import { AFFINITY_LIMIT, HypemanPool } from "../../../src/builder/hypeman/hypeman-pool.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";

// Only what needs no server: the integration test runs the pool against two Hypeman fakes.
const urls = ["https://ops:pool-secret@hm1.example.com", "https://hm2.example.com:8443"];
const refused = () => Object.assign(new Error("Connection error."), { cause: { code: "ECONNREFUSED" } });

test("a pool names its servers by host alone, never a URL's credentials", () => {
  const pool = new HypemanPool({ baseURLs: urls });
  assert.equal(pool.describe(), "Hypeman pool of 2 servers (hm1.example.com, hm2.example.com:8443; a microVM per build)");
  assert.equal(new HypemanPool({ baseURLs: [urls[1]!] }).describe(), "Hypeman at hm2.example.com:8443 (a microVM per build)");
});

test("a server's backoff doubles per failure in a row, up to its cap, and the message says how long is left", async () => {
  let clock = 0;
  const pool = new HypemanPool({ baseURLs: urls, backoffMs: 1_000, maxBackoffMs: 5_000, now: () => clock });
  const [one, two] = pool.servers;
  for (let i = 0; i < 4; i++) pool.failed(one!, refused());
  pool.failed(two!, { status: 503, error: { message: "draining" } });
  const err = await pool.pick("octo/app").then(() => null, (e: unknown) => e);
  assert.ok(isMicroshipError(err) && err.kind === "infra", String(err));
  // 1 s, 2 s, 4 s, then the 5 s cap.
  assert.equal(err.message, "No Hypeman server can take the build: hm1.example.com (can't be reached (ECONNREFUSED), left out for 5 s more); hm2.example.com:8443 (answered 503: draining, left out for 1 s more).");
  assert.ok(!err.message.includes("pool-secret"));
});

test("a single server is never left out: its failures are the build's, as before", async () => {
  const pool = new HypemanPool({ baseURLs: [urls[1]!], now: () => 0 });
  pool.failed(pool.servers[0]!, refused());
  assert.equal(await pool.pick("octo/app"), pool.servers[0]);
});

test("the scopes remembered for affinity are bounded; the oldest is forgotten first", () => {
  const pool = new HypemanPool({ baseURLs: urls });
  const [one, two] = pool.servers;
  pool.accepted(one!, "octo/first");
  for (let i = 0; i < AFFINITY_LIMIT; i++) pool.accepted(two!, `octo/r${i}`);
  assert.equal(pool.homeOf("octo/first"), null);
  assert.equal(pool.homeOf(`octo/r${AFFINITY_LIMIT - 1}`), two!.url);
  assert.equal(pool.homeOf("octo/r0"), two!.url);
  pool.accepted(one!, "octo/r0");
  assert.equal(pool.homeOf("octo/r0"), one!.url, "a scope's home is its last server");
});
