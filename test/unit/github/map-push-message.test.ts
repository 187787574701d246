import { test } from "node:test";
import assert from "node:assert/strict";
import { mapPush, type PushPayload } from "../../../src/github/map-push.ts";

const payload = (message: string | undefined): PushPayload => ({
  ref: "refs/heads/main",
  after: "a".repeat(40),
  deleted: false,
  commits: [],
  repository: { id: 1296269, name: "app", full_name: "octo/app", owner: { login: "octo" }, default_branch: "main" },
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
  assert.equal(mapPush("d4", payload("\u001b[31m<b>red</b>\u001b[0m \u001b]8;;https://evil.test\u0007link\u001b]8;;\u0007\u0000\r\nrest"))!.commitMessage, "<b>red</b> link", "escapes and control characters go; markup stays, for the page to escape");
});
