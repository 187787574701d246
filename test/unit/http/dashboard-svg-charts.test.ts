import { test } from "node:test";
import assert from "node:assert/strict";
import { durationChart, successChart } from "../../../src/http/dashboard/svg-charts.ts";

const hostile = `</text><script>alert(1)</script><a href="javascript:x" onload='y'>&amp;`;

test("the charts' text is escaped: a hostile repository name or title stays text", () => {
  const svgs = [
    durationChart([{ at: 1, ms: 5_000, ok: false, label: hostile }, { at: 2, ms: 9_000, ok: true, label: "x" }], hostile),
    successChart([{ repo: hostile, ok: 1, total: 3 }], hostile),
  ];
  for (const svg of svgs) {
    assert.doesNotMatch(svg, /<script|<a |onload='|href="/);
    assert.match(svg, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    // Only the elements the chart draws appear.
    const tags = new Set([...svg.matchAll(/<\/?([a-z]+)/g)].map((m) => m[1]));
    assert.deepEqual([...tags].filter((t) => !["svg", "title", "text", "line", "circle", "rect"].includes(t!)), []);
  }
});

test("the duration chart puts each build where its time and length say; the rate chart sizes bars by share", () => {
  const svg = durationChart([{ at: 0, ms: 0, ok: true, label: "a" }, { at: 100, ms: 10_000, ok: false, label: "b" }], "t");
  const dots = [...svg.matchAll(/<circle class="(ok|bad)" cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [m[1], Number(m[2]), Number(m[3])]);
  assert.deepEqual(dots, [["ok", 48, 172], ["bad", 628, 12]]);
  const bars = successChart([{ repo: "a/b", ok: 3, total: 4 }, { repo: "c/d", ok: 0, total: 2 }], "t");
  assert.match(bars, /class="warn" x="220" y="7" width="270"/);
  assert.match(bars, /class="bad" x="220" y="29" width="0"/);
  assert.match(bars, />75%</);
  assert.match(durationChart([], "t"), /No finished builds yet/);
  assert.doesNotMatch(durationChart([{ at: 5, ms: Number.NaN, ok: true, label: "x" }], "t"), /NaN/, "a bad number is not drawn as NaN");
});
