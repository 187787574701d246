import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { annotateFromLog } from "../../../src/core/log-annotations.ts";

const dir = mkdtempSync(join(tmpdir(), "ms-ann-"));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "scripts"));
writeFileSync(join(dir, "scripts/build.js"), "");
writeFileSync(join(dir, "app.py"), "");
const line = (text: string) => ({ ts: 0, stream: "stderr" as const, text });

test("a stack trace line naming an app file becomes an error annotation at that line", () => {
  const msgs = annotateFromLog([
    line("    at Object.<anonymous> (/app/node_modules/express/index.js:3:1)"),
    line("/app/scripts/build.js:12"),
    line('  File "/app/app.py", line 7, in <module>'),
    line("    at node:internal/main:1:1"),
  ], dir, "web");
  assert.deepEqual(msgs.map((m) => [m.file, m.line]), [["web/app.py", 7], ["web/scripts/build.js", 12]]);
});

test("references to files the app doesn't have are ignored", () => {
  assert.deepEqual(annotateFromLog([line("/usr/lib/python3.11/x.py:3"), line("/app/missing.js:1")], dir, "."), []);
});
