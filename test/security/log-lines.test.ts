import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { LineSplitter } from "../../src/builder/log-lines.ts";
import { MAX_LINE_CHARS, cleanLogText, cutLine } from "../../src/core/log-text.ts";
import type { LogLine } from "../../src/core/builder.ts";

const MiB = 1024 * 1024;

function splitter(): { s: LineSplitter; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { s: new LineSplitter("stdout", (l) => lines.push(l), () => 0), lines };
}

test("a 64 MiB line with no newline is cut, never buffered, and no chunk blocks the loop", () => {
  const { s, lines } = splitter();
  const chunk = Buffer.alloc(256 * 1024, "x");
  let slowest = 0;
  const t0 = performance.now();
  for (let sent = 0; sent < 64 * MiB; sent += chunk.length) {
    const c0 = performance.now();
    s.write(chunk);
    slowest = Math.max(slowest, performance.now() - c0);
  }
  s.write("\nnext line\n");
  const total = performance.now() - t0;
  // Rescanning the pending text took 27 s in all; one pass over 64 MiB takes well under one.
  assert.ok(slowest < 50, `slowest chunk ${slowest.toFixed(1)} ms`);
  assert.ok(total < 5_000, `${total.toFixed(0)} ms`);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.text, "x".repeat(MAX_LINE_CHARS) + ` … [line cut: ${64 * MiB - MAX_LINE_CHARS} bytes]`);
  assert.equal(lines[1]!.text, "next line");
});

test("a cut line counts dropped bytes, keeps multi-byte characters whole, and ends on end()", () => {
  const { s, lines } = splitter();
  const line = "é".repeat(MAX_LINE_CHARS + 10);
  const bytes = Buffer.from(line);
  // Chunks that split the two-byte characters.
  for (let i = 0; i < bytes.length; i += 4097) s.write(bytes.subarray(i, i + 4097));
  s.end();
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.text, "é".repeat(MAX_LINE_CHARS) + " … [line cut: 20 bytes]");
  const emoji = "😀".repeat(MAX_LINE_CHARS);
  assert.ok(!/[\ud800-\udbff]$/.test(cutLine(emoji).split(" … ")[0]!), "a surrogate pair is never split");
});

test("short lines are unchanged, blank lines kept, and a cut does not leak into the next line", () => {
  const { s, lines } = splitter();
  s.write("a\n\nb");
  s.write("c\n" + "y".repeat(MAX_LINE_CHARS + 1) + "\nz");
  s.end();
  assert.deepEqual(lines.map((l) => l.text), ["a", "", "bc", "y".repeat(MAX_LINE_CHARS) + " … [line cut: 1 bytes]", "z"]);
});

test("one chunk of a million newlines is split in one pass", () => {
  const { s, lines } = splitter();
  const t0 = performance.now();
  s.write("\n".repeat(MiB));
  assert.equal(lines.length, MiB);
  assert.ok(performance.now() - t0 < 2_000);
});

const CLEAN_ADVERSARIAL: [string, string][] = [
  ["a CSI that never ends", "\u001b[" + "0".repeat(MiB)],
  ["CSI starts, repeated", "\u001b[0;".repeat(MiB / 4)],
  ["an OSC that never ends", "\u001b]" + "x".repeat(MiB)],
  ["OSC starts, repeated", "\u001b]x".repeat(MiB / 3)],
  ["a million carriage returns", "\r".repeat(MiB)],
  ["control characters", "\u0001\u001b".repeat(MiB / 2)],
];

for (const [name, input] of CLEAN_ADVERSARIAL) {
  test(`cleanLogText is linear: ${name}`, () => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      cleanLogText(input);
      best = Math.min(best, performance.now() - t0);
    }
    assert.ok(best < 50, `${best.toFixed(1)} ms`);
  });
}
