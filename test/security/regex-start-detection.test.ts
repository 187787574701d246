import { test } from "node:test";
import assert from "node:assert/strict";
import { devServerOf } from "../../src/detect/providers/node/framework-start.ts";
import { imports } from "../../src/detect/providers/python/python-ui-apps.ts";
import { startCmd } from "../../src/detect/render-template.ts";
import { fastestMs } from "../helpers/fastest-ms.ts";

// Scripts, Python sources and start commands are the repository's text, read on the host. The
// start detection splits them into lines and words; no pattern on them can backtrack, so the
// inputs that make a nested-quantifier regex crawl take milliseconds at a megabyte.
const BOUND_MS = 400;
const SIZE = 1024 * 1024;
const fill = (unit: string) => unit.repeat(Math.floor(SIZE / unit.length));

const CASES: [string, () => unknown, unknown][] = [
  ["a script of one long word", () => devServerOf(fill("a")), null],
  ["a script of near-miss dev servers", () => devServerOf(fill("vite build && ")), null],
  ["a script of whitespace runs", () => devServerOf(`x${fill(" \t")}y`), null],
  ["a Python file of near-miss imports", () => imports(fill("import streamlitx, "), "streamlit"), false],
  ["a Python file of one long line of from", () => imports(fill("from "), "streamlit"), false],
  ["a start command of unbalanced quotes", () => startCmd(fill("'a")).length > 0, true],
  ["a start command of quote pairs and parentheses", () => startCmd(fill("'('")).length > 0, true],
];

for (const [what, run, expected] of CASES) {
  test(`start detection stays linear: ${what}`, () => {
    let result: unknown;
    const ms = fastestMs(() => (result = run()));
    assert.equal(result, expected);
    assert.ok(ms < BOUND_MS, `${what}: ${ms.toFixed(1)} ms`);
  });
}
