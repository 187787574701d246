import { test } from "node:test";
import assert from "node:assert/strict";
import { fromRegistries, isLoopbackRegistry, needsPlainHttp, registryHost } from "../../../src/registry/registry-host.ts";

test("the registry of a reference follows the docker reference rules", () => {
  assert.equal(registryHost("node:24-slim"), "docker.io");
  assert.equal(registryHost("library/node"), "docker.io");
  assert.equal(registryHost("127.0.0.1:5000/library/node:24"), "127.0.0.1:5000");
  assert.equal(registryHost("docker://ghcr.io/o/r:t"), "ghcr.io");
  assert.equal(registryHost("localhost/x"), "localhost");
});

test("plain HTTP only for loopback and the listed registries", () => {
  assert.ok(isLoopbackRegistry("127.0.0.1:5000"));
  assert.ok(isLoopbackRegistry("localhost:1"));
  assert.ok(!isLoopbackRegistry("10.0.2.2:5000"));
  assert.ok(!isLoopbackRegistry("127.example.com"));
  assert.ok(needsPlainHttp("127.0.0.1:5000/o/r", []));
  assert.ok(!needsPlainHttp("registry.internal:5000/o/r", []));
  assert.ok(needsPlainHttp("registry.internal:5000/o/r", ["registry.internal:5000"]));
  assert.ok(!needsPlainHttp("ghcr.io/o/r", ["registry.internal:5000"]));
});

test("FROM lines name the registries a build pulls from", () => {
  const df = "FROM 127.0.0.1:5000/library/node:24-slim AS build\nFROM --platform=linux/amd64 busybox\nCOPY --from=ghcr.io/o/tools:1 /x /x\nFROM ${BASE}\nFROM build\n";
  assert.deepEqual(fromRegistries(df).sort(), ["127.0.0.1:5000", "docker.io", "ghcr.io"]);
});
