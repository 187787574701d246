import { test } from "node:test";
import assert from "node:assert/strict";
import { isLaterStatus } from "../../../src/builder/hypeman/hypeman-builder.ts";

test("a Hypeman build's statuses pass on only when they move forward: a reopened stream's replay from queued is not news", () => {
  const seen: string[] = [];
  let last: string | undefined = "queued";
  // The first stream, a drop mid-build, the second stream replaying from the start, the final GET.
  for (const s of ["queued", "building", "queued", "building", "pushing", "pushing", "ready", "ready"]) {
    if (!isLaterStatus(s, last)) continue;
    seen.push(s);
    last = s;
  }
  assert.deepEqual(seen, ["building", "pushing", "ready"]);
  assert.equal(isLaterStatus("failed", "building"), true, "a failure ends any step");
  assert.equal(isLaterStatus("cancelled", "queued"), true);
  assert.equal(isLaterStatus("failed", "ready"), false, "nothing comes after an end");
  assert.equal(isLaterStatus("building", undefined), true);
  assert.equal(isLaterStatus("paused" as string, "building"), true, "a status this version doesn't know is still shown");
});
