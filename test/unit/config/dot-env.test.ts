import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyDotEnv } from "../../../src/config/dot-env.ts";
import { hasAppCredentials, loadEnv } from "../../../src/config/env.ts";

function dotEnv(text: string) {
  const dir = mkdtempSync(join(tmpdir(), "ms-dot-env-"));
  const path = join(dir, ".env");
  writeFileSync(path, text);
  return { path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test(".env as Probot's setup flow writes it (the key quoted, its newlines escaped) gives the credentials loadEnv needs", () => {
  const pem = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs1", format: "pem" }) as string;
  // updateEnv's format: KEY=value with newlines written as \n; the key itself double-quoted.
  const f = dotEnv([`WEBHOOK_PROXY_URL=https://smee.io/abcdef`, `APP_ID=4242`, `PRIVATE_KEY="${pem.replace(/\n/g, "\\n")}"`, `WEBHOOK_SECRET=from-the-setup`, `GITHUB_CLIENT_ID=Iv1.abc`, `GITHUB_CLIENT_SECRET=shh`].join("\n"));
  try {
    const env: Record<string, string | undefined> = {};
    applyDotEnv(env, f.path);
    const loaded = loadEnv(env);
    assert.equal(hasAppCredentials(loaded), true);
    assert.equal(loaded.APP_ID, "4242");
    assert.equal(loaded.WEBHOOK_SECRET, "from-the-setup");
    assert.equal(loaded.GITHUB_CLIENT_ID, "Iv1.abc");
    assert.equal(loaded.PRIVATE_KEY, pem);
  } finally {
    f.done();
  }
});

test("the environment wins over .env (an empty variable counts as unset); no .env changes nothing", () => {
  const f = dotEnv("PORT=4000\nHOST=10.1.2.3\nLOG_LEVEL=debug\n");
  try {
    const env: Record<string, string | undefined> = { PORT: "5000", HOST: "" };
    applyDotEnv(env, f.path);
    assert.deepEqual(env, { PORT: "5000", HOST: "10.1.2.3", LOG_LEVEL: "debug" });
    const untouched: Record<string, string | undefined> = { PORT: "1" };
    applyDotEnv(untouched, join(tmpdir(), "ms-no-such-dir", ".env"));
    assert.deepEqual(untouched, { PORT: "1" });
  } finally {
    f.done();
  }
});
