import { test } from "node:test";
import assert from "node:assert/strict";
import { startHarness } from "../../helpers/microship-harness.ts";
import { loadEnv, publicUrl } from "../../../src/config/env.ts";

// Without MICROSHIP_PUBLIC_URL, microship's own links are http://localhost:$PORT. With PORT=0 the
// port is only known once the server listens: the links, and the dashboard's OAuth callback URL,
// must carry that one, not ":0".

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
    // The dashboard is off (no OAuth client): its page names the callback URL to register.
    const off = await (await fetch(`${h.app.url}/`)).text();
    assert.ok(off.includes(`http://localhost:${port}/login/callback`), off);
  } finally {
    await h.stop();
  }
});

test("PORT=0 and no MICROSHIP_PUBLIC_URL: the dashboard's sign-in sends GitHub the callback on the port the server got", { timeout: 60_000 }, async () => {
  const h = await startHarness({}, { MICROSHIP_PUBLIC_URL: "", GITHUB_CLIENT_ID: "Iv1.port0client", GITHUB_CLIENT_SECRET: "port0-client-secret" });
  try {
    const port = new URL(h.app.url).port;
    const res = await fetch(`${h.app.url}/login`, { redirect: "manual" });
    assert.equal(res.status, 303);
    const authorize = new URL(res.headers.get("location")!);
    assert.equal(authorize.searchParams.get("redirect_uri"), `http://localhost:${port}/login/callback`);
  } finally {
    await h.stop();
  }
});
