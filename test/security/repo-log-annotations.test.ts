import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { annotateFromLog } from "../../src/core/log-annotations.ts";

/**
 * A failed build's log names files, and microship checks they exist before it annotates them.
 * Build output is hostile: with a link left in the checkout (one .dockerignore kept out of the
 * archive, so nothing refused it), following it would tell the world whether a host file exists.
 */
test("file references in a build log never follow a link out of the checkout", (t) => {
  const base = mkdtempSync(join(tmpdir(), "ms-sec-annot-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const app = join(base, "app");
  const host = join(base, "host");
  for (const d of [app, host]) mkdirSync(d);
  writeFileSync(join(host, "secret.json"), "{}");
  writeFileSync(join(app, "real.js"), "1");
  symlinkSync(host, join(app, "h"));
  symlinkSync("real.js", join(app, "alias.js"));
  const line = (text: string) => ({ ts: 0, stream: "stderr" as const, text });
  const found = annotateFromLog([line("Error at h/secret.json:3"), line("TypeError at real.js:1"), line("thrown at alias.js:2")], app, ".");
  assert.deepEqual(found.map((m) => m.file), ["real.js"]);
});
