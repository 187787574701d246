import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvError, loadEnv } from "../../../src/config/env.ts";

test("cache affinity: 3000 ms and no host id by default (main falls back to the OS hostname); 0 turns it off", () => {
  const env = loadEnv({});
  assert.equal(env.MICROSHIP_AFFINITY_MS, 3_000);
  assert.equal(env.MICROSHIP_HOST_ID, undefined);
  const set = loadEnv({ MICROSHIP_AFFINITY_MS: "0", MICROSHIP_HOST_ID: "builder-2.eu" });
  assert.equal(set.MICROSHIP_AFFINITY_MS, 0);
  assert.equal(set.MICROSHIP_HOST_ID, "builder-2.eu");
});

test("a host id outside [A-Za-z0-9._-] or over 100 characters, and a negative or huge window, are refused", () => {
  for (const bad of [{ MICROSHIP_HOST_ID: "a b" }, { MICROSHIP_HOST_ID: "x".repeat(101) }, { MICROSHIP_AFFINITY_MS: "-1" }, { MICROSHIP_AFFINITY_MS: "600001" }, { MICROSHIP_AFFINITY_MS: "soon" }]) {
    assert.throws(() => loadEnv(bad), EnvError, JSON.stringify(bad));
  }
});
