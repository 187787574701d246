import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEnv } from "../../../src/config/env.ts";
import { loadSecretsKey } from "../../../src/store/secrets-key.ts";

test("the secrets key: MICROSHIP_SECRETS_KEY when set; else secrets.key made once (0600) in the data dir; none for replicas without a shared key", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-secrets-key-"));
  try {
    const key = randomBytes(32);
    assert.deepEqual(loadSecretsKey(loadEnv({ MICROSHIP_SECRETS_KEY: key.toString("base64") }), dir), key);
    const made = loadSecretsKey(loadEnv({}), dir)!;
    assert.equal(made.length, 32);
    assert.equal((await stat(join(dir, "secrets.key"))).mode & 0o777, 0o600);
    assert.deepEqual(loadSecretsKey(loadEnv({}), dir), made, "the same key at the next start");
    const replicas = loadEnv({ DATABASE_URL: "postgres://db/x", MICROSHIP_REGISTRY: "registry.test" });
    assert.equal(loadSecretsKey(replicas, dir), null, "a data dir's key is one replica's: secrets stay off rather than split");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
