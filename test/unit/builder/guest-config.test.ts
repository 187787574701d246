import { test } from "node:test";
import assert from "node:assert/strict";
import { guestBuildConfig } from "../../../src/builder/microvm/guest-config.ts";
import type { BuildInput } from "../../../src/core/builder.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";

const input = (dockerfile: string, imageName = "127.0.0.1:5000/acme/shop"): BuildInput => ({
  buildId: "b1", source: { open: () => { throw new Error("unused"); }, path: "/x", sha256: "0", sizeBytes: 0, fileCount: 0 },
  dockerfile, imageName, tags: ["t"], buildArgs: {}, cacheScope: "acme/shop", untrusted: false, noCache: false, timeoutSeconds: 60,
  secrets: [], runtime: null, baseImageDigest: null, signal: new AbortController().signal,
});

test("the image's own loopback registry and the configured mirror are reached at the forwards' address", () => {
  const c = guestBuildConfig(input("FROM 127.0.0.1:6000/library/busybox\n"), { insecureRegistries: ["127.0.0.1:6000"] });
  assert.equal(c.registry_url, "10.0.2.100:5000");
  assert.deepEqual(c.registry_rewrites, [{ from: "127.0.0.1:5000", to: "10.0.2.100:5000" }, { from: "127.0.0.1:6000", to: "10.0.2.100:6000" }]);
});

test("a FROM line naming any other port of the host's loopback is the user's error, naming the Dockerfile", () => {
  for (const from of ["127.0.0.1:22/x", "localhost:3000/app", "127.0.0.2:6000/library/busybox", "[::1]:8080/x"]) {
    assert.throws(() => guestBuildConfig(input(`FROM ${from}\n`), { insecureRegistries: ["127.0.0.1:6000"] }), (e) => isMicroshipError(e) && e.kind === "user" && /Dockerfile pulls from .* on the build host's own loopback/.test(e.message), from);
  }
  assert.throws(() => guestBuildConfig(input("FROM busybox AS a\nFROM a\nCOPY --from=127.0.0.1:9000/x/y /a /b\n")), (e) => isMicroshipError(e) && e.kind === "user");
});
