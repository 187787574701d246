import { test } from "node:test";
import assert from "node:assert/strict";
import { firstVersionLine } from "../../../src/detect/providers/python/python-version.ts";

test(".python-version: the first line that is not blank or a comment, its first word", () => {
  assert.equal(firstVersionLine("3.12\n"), "3.12");
  assert.equal(firstVersionLine("# pinned for the app\n\n   3.11.9  \n3.12\n"), "3.11.9");
  assert.equal(firstVersionLine("\r\n#x\r\n3.13\r\n"), "3.13");
  assert.equal(firstVersionLine("3.12 3.11\n"), "3.12");
  assert.equal(firstVersionLine("# only comments\n\n"), undefined);
  assert.equal(firstVersionLine(""), undefined);
});
