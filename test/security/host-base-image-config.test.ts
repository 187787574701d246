import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRepoConfig, REPO_CONFIG_PATH } from "../../src/core/repo-config.ts";

// Issue 9, item 15: `base_image` becomes the generated Dockerfile's FROM line, so a newline in it
// would add instructions of the config's choosing (on a fork's PR: the fork's choosing).
const HOSTILE = [
  "node:22-slim\nRUN cat /proc/1/environ",
  "node:22-slim\r\nRUN id",
  "node:22-slim\rRUN id",
  "node:22-slim\u0000",
  "node:22-slim\tAS evil",
  "node:22-slim AS evil",
  "node:22-slim\u001b[2K",
  "node:22-slim\u007f",
  "\nFROM scratch",
  "node:22-slim\u000bRUN id",
  "node:22-slim\u000cRUN id",
];

test("a base_image with a newline, a space or any control character is refused, naming the file and line", () => {
  for (const bad of HOSTILE) {
    for (const text of [`base_image: ${JSON.stringify(bad)}\n`, `builds:\n  - name: api\n    base_image: ${JSON.stringify(bad)}\n`]) {
      const r = parseRepoConfig(text);
      assert.equal(r.ok, false, JSON.stringify(bad));
      if (r.ok) continue;
      assert.equal(r.error.kind, "user");
      assert.match(r.error.message, /base_image`: must be one image reference: no spaces, newlines or other control characters/);
      assert.ok(r.error.message.startsWith(`${REPO_CONFIG_PATH}:`), r.error.message);
      assert.equal(r.error.location?.file, REPO_CONFIG_PATH);
      assert.equal(r.error.location?.line, text.startsWith("builds") ? 3 : 1);
    }
  }
  // Block scalars are how YAML spells a newline without escapes.
  const block = parseRepoConfig("base_image: |\n  node:22-slim\n  RUN id\n");
  assert.equal(block.ok, false);
});

test("ordinary base images still pass", () => {
  for (const good of ["node:22-slim", "python:3.12-slim", "ghcr.io/acme/base:1.2@sha256:" + "a".repeat(64), "127.0.0.1:5000/library/busybox:latest"]) {
    const r = parseRepoConfig(`base_image: ${JSON.stringify(good)}\n`);
    assert.ok(r.ok, good);
  }
});
