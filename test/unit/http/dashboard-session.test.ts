import { test } from "node:test";
import assert from "node:assert/strict";
import { CookieSealer, sameToken } from "../../../src/http/dashboard/session.ts";
import { TtlCache } from "../../../src/http/dashboard/ttl-cache.ts";

const future = () => Math.floor(Date.now() / 1000) + 60;

test("a sealed cookie opens only unchanged, under its own name, with its own key, before it expires", () => {
  const sealer = new CookieSealer("k".repeat(32), "https://ms.example");
  const value = { login: "alice", token: "ghu_secret_token_value", exp: future() };
  const sealed = sealer.seal("ms_session", value);
  assert.deepEqual(sealer.open("ms_session", sealed), value);
  assert.doesNotMatch(Buffer.from(sealed, "base64url").toString("latin1"), /ghu_secret|alice/, "the token is not readable in the cookie");
  assert.equal(sealer.open("ms_oauth", sealed), null, "a cookie can't be replayed under another name");
  assert.equal(new CookieSealer("x".repeat(32), "https://ms.example").open("ms_session", sealed), null, "another key");
  // Bytes are flipped, not characters: the last base64url character may carry bits that decode to nothing.
  const bytes = Buffer.from(sealed, "base64url");
  for (let i = 0; i < bytes.length; i++) {
    const flipped = Buffer.from(bytes);
    flipped[i]! ^= 1;
    assert.equal(sealer.open("ms_session", flipped.toString("base64url")), null, `a change at byte ${i}`);
  }
  assert.equal(sealer.open("ms_session", sealer.seal("ms_session", { ...value, exp: 1 })), null, "expired");
  assert.equal(sealer.open("ms_session", sealer.seal("ms_session", { login: "x" })), null, "no expiry");
  for (const junk of ["", "!!!", "a".repeat(5000), "AAAA"]) assert.equal(sealer.open("ms_session", junk), null);
});

test("CSRF tokens compare only equal strings", () => {
  assert.equal(sameToken("abc", "abc"), true);
  for (const other of ["abd", "ab", "abcd", undefined, null, 123, ["abc"]]) assert.equal(sameToken(other, "abc"), false);
});

test("the cache answers from memory while fresh, asks again after, forgets failures, and stays bounded", async () => {
  const cache = new TtlCache<number>(1000, 2);
  let calls = 0;
  const load = async () => ++calls;
  assert.equal(await cache.get("a", load, 0), 1);
  assert.equal(await cache.get("a", load, 999), 1);
  assert.equal(await cache.get("a", load, 1000), 2);
  await assert.rejects(cache.get("b", () => Promise.reject(new Error("down")), 1000));
  await new Promise((r) => setImmediate(r));
  assert.equal(await cache.get("b", load, 1001), 3, "a failure is not kept");
  await cache.get("c", load, 1002);
  assert.equal(await cache.get("a", load, 1003), 5, "the oldest went out at the bound");
});
