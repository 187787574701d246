import { test } from "node:test";
import assert from "node:assert/strict";
import { mapPush, type PushPayload } from "../../../src/github/map-push.ts";

const payload = (message: string | undefined): PushPayload => ({
  ref: "refs/heads/main",
  after: "a".repeat(40),
  deleted: false,
  commits: [],
  repository: { name: "app", full_name: "octo/app", owner: { login: "octo" }, default_branch: "main" },
  installation: { id: 1 },
  sender: { login: "someone" },
  head_commit: message === undefined ? null : { message },
});

test("the commit message kept is the head commit's first line, cut to 200 characters, however long the message", () => {
  const huge = `${"<b>".repeat(1_000_000)}\nsecond line`;
  const kept = mapPush("d1", payload(huge))!.commitMessage!;
  assert.equal(kept.length, 200);
  assert.ok(!kept.includes("\n"));
  assert.equal(mapPush("d2", payload("fix: one\n\nbody"))!.commitMessage, "fix: one");
  assert.equal(mapPush("d3", payload(undefined))!.commitMessage, null, "no head commit, no message");
});
