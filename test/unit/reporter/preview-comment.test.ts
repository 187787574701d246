import { test } from "node:test";
import assert from "node:assert/strict";
import { PREVIEW_MARKER, renderComment } from "../../../src/github/reporter/preview-comment.ts";
import { renderDeploy } from "../../../src/github/reporter/render-deploy.ts";

test("the preview comment keeps one line per app, replaces an app's own, and does not grow when rewritten", () => {
  let body = renderComment(null, { app: "web", line: "web: deploying" });
  body = renderComment(body, { app: "api", line: "api: ready" });
  body = renderComment(body, { app: "web", line: "web: ready" });
  for (let i = 0; i < 20; i++) body = renderComment(body, { app: "web", line: "web: ready" });
  assert.ok(body.startsWith(PREVIEW_MARKER));
  const rows = body.split("\n").filter((l) => l.startsWith("<!-- microship:app:"));
  assert.deepEqual(rows.map((r) => r.trimEnd().split(" --> ")[1]), ["api: ready", "web: ready"]);
  assert.ok(!/ {3,}$/m.test(body), "no trailing spaces piling up");
  const removed = renderComment(body, { app: null, line: "removed", only: true });
  assert.equal(removed.split("\n").filter((l) => l.startsWith("<!-- microship:app:")).length, 1);
});

test("lines a user typed into the comment are not carried over, and the rows are bounded", () => {
  let body = `${PREVIEW_MARKER}\n@everyone look here\n`;
  for (let i = 0; i < 80; i++) body = renderComment(body, { app: `a${i}`, line: "ready" });
  assert.ok(!body.includes("@everyone"));
  assert.ok(body.split("\n").filter((l) => l.startsWith("<!-- microship:app:")).length <= 50);
});

test("the check run's deploy section shows the URL, or why the deploy failed", () => {
  assert.match(renderDeploy({ environment: "production", ok: true, url: "http://x.test", error: null }).join("\n"), /Deployed to \*\*production\*\*: http:\/\/x\.test/);
  assert.match(renderDeploy({ environment: "preview/pr-1", ok: false, url: null, error: "health check failed" }).join("\n"), /failed .*microship\/deploy.*health check failed/);
  assert.deepEqual(renderDeploy(undefined), []);
});
