import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvError, loadEnv } from "../../../src/config/env.ts";

// Without WEBHOOK_SECRET, Probot verifies deliveries against its public default secret
// ("development"), so anyone could sign a push, a /deploy comment or a rollback. Credentials
// without the secret must stop the start instead.

test("APP_ID and a private key without WEBHOOK_SECRET are refused, naming the variable", () => {
  for (const key of [{ PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----" }, { PRIVATE_KEY_PATH: "app.pem" }]) {
    for (const secret of [{}, { WEBHOOK_SECRET: "" }]) {
      assert.throws(() => loadEnv({ APP_ID: "12345", ...key, ...secret }), (err: unknown) => err instanceof EnvError && err.problems.some((p) => p.startsWith("WEBHOOK_SECRET: required")), JSON.stringify(secret));
    }
  }
});

test("with the secret, or with no credentials at all (the setup flow), the start goes on", () => {
  assert.equal(loadEnv({ APP_ID: "12345", PRIVATE_KEY_PATH: "app.pem", WEBHOOK_SECRET: "s3cret-from-github" }).WEBHOOK_SECRET, "s3cret-from-github");
  assert.equal(loadEnv({}).APP_ID, undefined);
  assert.equal(loadEnv({ WEBHOOK_PROXY_URL: "https://smee.io/abc" }).APP_ID, undefined);
});
