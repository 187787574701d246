import { test } from "node:test";
import assert from "node:assert/strict";
import { budFailure } from "../../../src/builder/buildah/bud-failure.ts";
import type { LogLine } from "../../../src/core/builder.ts";

const lines = (...texts: string[]): LogLine[] => texts.map((text) => ({ ts: 0, stream: "stdout", text }));

test("a failing RUN of a single-stage build is named with its exit code", () => {
  const e = budFailure(lines("STEP 1/3: FROM busybox", "STEP 2/3: RUN false", "Error: building at STEP \"RUN false\": exit status 1"), 1);
  assert.equal(e.kind, "user");
  assert.equal(e.title, "Build step failed");
  assert.equal(e.message, "STEP 2/3: RUN false failed with exit code 1.");
  assert.match(e.hint ?? "", /Fix the command `false`/);
});

test("a multi-stage build's step keeps its name without the stage prefix", () => {
  const e = budFailure(lines("[1/2] STEP 7/9: COPY . .", "[1/2] STEP 8/9: RUN npm run build", "> node scripts/build.js", "Error: building at STEP \"RUN npm run build\": exit status 1"), 1);
  assert.equal(e.title, "Build step failed");
  assert.equal(e.message, "STEP 8/9: RUN npm run build failed with exit code 1.");
});

test("when the STEP line has scrolled out of the tail, buildah's error still names the step", () => {
  const e = budFailure(lines("npm ERR! a lot of output", "Error: building at STEP \"RUN npm ci\": exit status 2"), 1);
  assert.equal(e.title, "Build step failed");
  assert.match(e.message, /RUN npm ci failed with exit code 2/);
});

test("a base image that can't be pulled is the user's, and says where to fix it", () => {
  const e = budFailure(lines("STEP 1/2: FROM nope:1", "Error: creating build container: initializing source docker://nope:1: reading manifest 1 in docker.io/library/nope: manifest unknown"), 125);
  assert.equal(e.kind, "user");
  assert.equal(e.title, "Base image not found");
});

test("broken storage is ours, not the repo's", () => {
  const e = budFailure(lines("STEP 2/2: RUN true", "Error: committing container: no space left on device"), 1);
  assert.equal(e.kind, "infra");
});
