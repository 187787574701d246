import { test } from "node:test";
import assert from "node:assert/strict";
import { decideAccess } from "../../../src/registry/registry-access.ts";

test("a public mirror lets anyone read, but its ping still asks for credentials so a pusher sends its own", () => {
  const anon = (method: string, path: string) => decideAccess({ method, path, query: "", grant: null, anonymousPull: true });
  // Answering 200 here made buildah push with no credentials at all, and fail with 'unauthorized'.
  assert.deepEqual(anon("GET", "/v2/"), { allow: false, status: 401, reason: "authentication required" });
  assert.equal(anon("GET", "/v2/library/busybox/manifests/latest").allow, true);
  assert.equal(anon("HEAD", "/v2/library/busybox/blobs/sha256:" + "a".repeat(64)).allow, true);
  assert.equal(anon("POST", "/v2/library/busybox/blobs/uploads/").allow, false);
  assert.equal(anon("GET", "/v2/_catalog").allow, false);
});
