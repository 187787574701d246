import { test } from "node:test";
import assert from "node:assert/strict";
import { renderSummary } from "../../../src/github/reporter/render-summary.ts";
import { emptyOutcome, type BuildRecord } from "../../../src/core/build.ts";
import { outcomeFromError } from "../../../src/core/outcome.ts";
import { userError, infraError } from "../../../src/core/errors.ts";
import { buildRequest } from "../../helpers/build-requests.ts";
import { annotationsFor } from "../../../src/github/reporter/annotations.ts";

const build: BuildRecord = {
  id: "b1", request: buildRequest({ pr: { number: 4, fork: true, headRepo: "f/app", headRef: "x", baseRef: "main" } }), attempt: 0, state: "completed",
  conclusion: null, checkRunId: 1, createdAt: 0, startedAt: 0, completedAt: 0, cancelRequested: false, supersededBy: null, tries: 1,
  leaseOwner: null, leaseExpiresAt: null, outcome: null,
};

test("a success summary carries the image ref, digest, tags, size, runtime and phase timings", () => {
  const outcome = {
    ...emptyOutcome("success", "Image built and pushed"),
    runtime: "nodejs24",
    image: { ref: "reg/octo/app@sha256:abc", digest: "sha256:abc", name: "reg/octo/app", tags: ["aaaa", "feature"], sizeBytes: 5 * 1024 * 1024 },
    phases: { queue: 12, clone: 800, build: 61_000, push: 2_300 },
  };
  const md = renderSummary(build, outcome, "http://x/builds/b1?token=t");
  for (const s of ["reg/octo/app@sha256:abc", "sha256:abc", "`reg/octo/app:feature`", "5.0 MiB", "nodejs24", "1 min 1 s", "2.3 s", "from a fork", "[Full log](http://x/builds/b1?token=t)"]) {
    assert.ok(md.includes(s), `summary lacks ${s}:\n${md}`);
  }
});

test("a user error says what went wrong, where, and how to fix it; and becomes an annotation", () => {
  const outcome = outcomeFromError(userError(".github/microship.yml:3:1: Unrecognized key: \"foo\"", {
    title: "Config schema error", location: { file: ".github/microship.yml", line: 3, column: 1 }, hint: "Remove the key.",
  }));
  assert.equal(outcome.conclusion, "failure");
  const md = renderSummary(build, outcome, "u");
  assert.match(md, /### What went wrong/);
  assert.match(md, /In `\.github\/microship\.yml` at line 3, column 1/);
  assert.match(md, /### How to fix it\n\nRemove the key\./);
  const [a] = annotationsFor(outcome);
  assert.deepEqual([a?.path, a?.start_line, a?.annotation_level], [".github/microship.yml", 3, "failure"]);
});

test("an infrastructure error is neutral and says it is not the user's fault", () => {
  const outcome = outcomeFromError(infraError("builder unreachable"));
  assert.equal(outcome.conclusion, "neutral");
  assert.match(renderSummary(build, outcome, "u"), /fault on microship's side/);
});
