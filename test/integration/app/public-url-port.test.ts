import { test } from "node:test";
import assert from "node:assert/strict";
import { startHarness } from "../../helpers/microship-harness.ts";
import { loadEnv, publicUrl } from "../../../src/config/env.ts";

// Without MICROSHIP_PUBLIC_URL, microship's own links are http://localhost:$PORT. With PORT=0 the
// port is only known once the server listens: the links must carry that one, not ":0".

test("publicUrl: MICROSHIP_PUBLIC_URL wins; else localhost on the port listened on", () => {
  assert.equal(publicUrl(loadEnv({ PORT: "0" }), 41234), "http://localhost:41234");
  assert.equal(publicUrl(loadEnv({ PORT: "3000" })), "http://localhost:3000");
  assert.equal(publicUrl(loadEnv({ PORT: "0", MICROSHIP_PUBLIC_URL: "https://ci.example.com/" }), 41234), "https://ci.example.com");
});

test("PORT=0 and no MICROSHIP_PUBLIC_URL: the log links carry the port the server got", { timeout: 60_000 }, async () => {
  const h = await startHarness({}, { MICROSHIP_PUBLIC_URL: "" });
  try {
    const port = new URL(h.app.url).port;
    assert.notEqual(port, "0");
    assert.ok(h.app.links.detailsUrl("b1").startsWith(`http://localhost:${port}/builds/b1?`), h.app.links.detailsUrl("b1"));
  } finally {
    await h.stop();
  }
});
