import { test } from "node:test";
import assert from "node:assert/strict";
import { tailWithinBytes, headWithinBytes, GITHUB_TEXT_LIMIT } from "../../../src/github/reporter/truncate.ts";
import { renderLogTail } from "../../../src/github/reporter/render-log.ts";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

test("text within the limit is left alone", () => {
  assert.equal(tailWithinBytes("a\nb\nc", 100), "a\nb\nc");
});

test("the tail is kept on a line boundary, counted in bytes, with a marker", () => {
  // 3-byte characters: 40,000 of them are under 65,535 characters but far over 65,535 bytes.
  const lines = Array.from({ length: 4000 }, (_, i) => `${i} ${"€".repeat(10)}`);
  const out = tailWithinBytes(lines.join("\n"));
  assert.ok(bytes(out) <= GITHUB_TEXT_LIMIT, `got ${bytes(out)} bytes`);
  const [marker, firstKept, ...rest] = out.split("\n");
  assert.match(marker!, /^… \d+ earlier lines \(\d+ bytes\) left out/);
  assert.ok(lines.includes(firstKept!), "the first kept line is a whole line");
  assert.equal(rest.at(-1), lines.at(-1), "the end of the log survives");
});

test("a single line longer than the limit keeps its end without splitting a character", () => {
  const out = tailWithinBytes("é".repeat(50_000), 1000);
  assert.ok(bytes(out) <= 1000);
  assert.ok(!out.includes("\uFFFD"));
});

test("headWithinBytes cuts Markdown from its end", () => {
  const out = headWithinBytes("x".repeat(70_000));
  assert.ok(bytes(out) <= GITHUB_TEXT_LIMIT);
  assert.match(out, /cut to fit GitHub's limit/);
});

test("the rendered log tail fits GitHub's limit and cannot close its own code fence", () => {
  const lines = Array.from({ length: 20_000 }, (_, i) => ({ ts: i, stream: "stdout" as const, text: i === 19_999 ? "```" : `line ${i} ${"ü".repeat(5)}` }));
  const text = renderLogTail(lines, "Log");
  assert.ok(bytes(text) <= GITHUB_TEXT_LIMIT);
  assert.equal(text.match(/```/g)?.length, 2, "only our own fences remain");
  assert.match(text, /line 19998/);
});
