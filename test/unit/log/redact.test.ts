import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { redact, registerSecret } from "../../../src/core/redact.ts";
import { createLogger } from "../../../src/log/logger.ts";

const TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";

test("GitHub tokens, auth headers, URL credentials, JWTs and keys are scrubbed", () => {
  const samples = [
    `token ${TOKEN} leaked`,
    `Authorization: Bearer abcdefghijklmnopqrstuvwxyz123456`,
    `https://x-access-token:${TOKEN}@github.com/o/r.git`,
    `jwt eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ`,
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
  ];
  for (const s of samples) {
    const out = redact(s);
    assert.match(out, /\[REDACTED\]/, out);
    assert.ok(!out.includes(TOKEN) && !out.includes("MIIEow") && !out.includes("abcdefghijklmnop"), out);
  }
});

test("registered secrets are scrubbed by value", () => {
  registerSecret("super-webhook-secret-value");
  assert.equal(redact("the secret is super-webhook-secret-value!"), "the secret is [REDACTED]!");
});

test("the operator logger never writes a token, in messages, fields or errors", () => {
  let out = "";
  const sink = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } });
  const log = createLogger("info", sink as never);
  log.info(`cloning with ${TOKEN}`);
  log.info({ url: `https://x-access-token:${TOKEN}@h/o/r`, token: TOKEN, headers: { authorization: `token ${TOKEN}` } }, "fields");
  log.error({ err: new Error(`failed with ${TOKEN}`) }, "error");
  assert.ok(out.length > 0);
  assert.ok(!out.includes(TOKEN), out);
});
