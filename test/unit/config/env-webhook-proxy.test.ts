import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvError, loadEnv } from "../../../src/config/env.ts";

// The forwarder (smee-client) throws on anything but http(s), after the server already listens:
// such a value must stop the start at loadEnv instead, named.
test("WEBHOOK_PROXY_URL: an http(s) channel is taken; another scheme is refused by name", () => {
  assert.equal(loadEnv({ WEBHOOK_PROXY_URL: "https://smee.io/AbC123" }).WEBHOOK_PROXY_URL, "https://smee.io/AbC123");
  for (const bad of ["ftp://smee.io/x", "file:///etc/passwd", "smee.io/x"]) {
    assert.throws(() => loadEnv({ WEBHOOK_PROXY_URL: bad }), (err: unknown) => err instanceof EnvError && /^WEBHOOK_PROXY_URL: /.test(err.problems[0]!), bad);
  }
});
