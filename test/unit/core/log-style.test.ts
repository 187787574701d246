import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { MAX_RUNS, styledLogText } from "../../../src/core/log-style.ts";
import { MAX_LINE_CHARS, cleanLogText } from "../../../src/core/log-text.ts";
import { LineSplitter } from "../../../src/builder/log-lines.ts";
import { BuildLog } from "../../../src/core/build-log.ts";
import { registerSecret } from "../../../src/core/redact.ts";
import type { LogLine } from "../../../src/core/builder.ts";
import { secretMask } from "../../../src/builder/secret-mask.ts";

const E = "\u001b";
const fg = (c: number) => (c + 1) << 4;
const bg = (c: number) => (c + 1) << 9;

test("colours, bold and resets become runs over the clean text", () => {
  const s = styledLogText(`${E}[31merror${E}[0m: ${E}[1;32mok${E}[22m!${E}[39m done`);
  assert.equal(s.text, "error: ok! done");
  assert.deepEqual(s.runs, [[0, 5, fg(1)], [7, 9, fg(2) | 1], [9, 10, fg(2)]]);
});

test("every supported code", () => {
  const style = (p: string) => styledLogText(`${E}[${p}mx`).runs[0]?.[2] ?? 0;
  assert.equal(style("1"), 1);
  assert.equal(style("2"), 2);
  assert.equal(style("3"), 4);
  assert.equal(style("4"), 8);
  assert.equal(style("1;2;3;4;22"), 12);
  assert.equal(style("3;4;23;24"), 0);
  assert.equal(style("37"), fg(7));
  assert.equal(style("90"), fg(8));
  assert.equal(style("97"), fg(15));
  assert.equal(style("40"), bg(0));
  assert.equal(style("107"), bg(15));
  assert.equal(style("31;41;49"), fg(1));
  assert.equal(style("31;41;39"), bg(1));
  assert.equal(style("31;0"), 0);
  assert.equal(style("31;"), 0, "an empty parameter is 0, a reset");
  assert.equal(style("31;5;7;53"), fg(1), "blink, inverse and overline are ignored");
});

test("256 colours and true colour map to the nearest of the 16; malformed ones change nothing", () => {
  const style = (p: string) => styledLogText(`${E}[${p}mx`).runs[0]?.[2] ?? 0;
  assert.equal(style("38;5;9"), fg(9));
  assert.equal(style("38;5;196"), fg(9), "bright red in the cube");
  assert.equal(style("48;5;21"), bg(4), "blue in the cube");
  assert.equal(style("38;5;232"), fg(0), "near-black grey");
  assert.equal(style("38;5;255"), fg(7), "near-white grey");
  assert.equal(style("38;2;250;250;250"), fg(15));
  assert.equal(style("38;2;0;180;0"), fg(2));
  assert.equal(style("38:2::0:0:240"), fg(4), "the colon form with a colour space id");
  assert.equal(style("48:5:11"), bg(11));
  assert.equal(style("38;5;256"), 0);
  assert.equal(style("38;5"), 0);
  assert.equal(style("38;2;1;2"), 0);
  assert.equal(style("38;2;1;2;999"), 0);
  assert.equal(style("1;38;5;300;31"), fg(1) | 1, "a bad colour is skipped, the codes after it still count");
  assert.equal(style("4:3"), 8);
  assert.equal(style("4;4:0"), 0);
});

test("malformed and unterminated sequences leave exactly cleanLogText's text and no stray style", () => {
  for (const raw of [`${E}[31`, `a${E}[31;x${E}[32mb`, `${E}]0;title`, `${E}]0;t${E}\\c`, `${E}]8;;http://x${E}`, `${E}[?25h${E}[?1mx`, `${E}[1 mx`, `${E}`, `x${E}Ny\u0007\u0000`]) {
    const s = styledLogText(raw);
    assert.equal(s.text, cleanLogText(raw), JSON.stringify(raw));
  }
  assert.deepEqual(styledLogText(`${E}[?1mx`).runs, [], "private parameters are no SGR");
  assert.deepEqual(styledLogText(`${E}[1 mx`).runs, [], "an intermediate byte makes another function");
  assert.deepEqual(styledLogText(`a${E}[31;x${E}[32mb`).runs, [[1, 2, fg(2)]], "x ends the first CSI: it is no SGR");
});

test("the text is cleanLogText's for random mixes of escapes, controls and carriage returns", () => {
  const bits = [E, "[", "]", "31", ";", "m", "1", "\r", "\u0007", "\\", "x", "é", "\t", "\u0001", "38;5;", "2", "?", " "];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
  for (let n = 0; n < 3000; n++) {
    let raw = "";
    for (let k = Math.floor(rnd() * 30); k > 0; k--) raw += bits[Math.floor(rnd() * bits.length)];
    const s = styledLogText(raw);
    assert.equal(s.text, cleanLogText(raw), JSON.stringify(raw));
    let last = 0;
    for (const [a, b, st] of s.runs) (assert.ok(a >= last && a < b && b <= s.text.length && st > 0, JSON.stringify(raw)), (last = b));
  }
});

test("carriage-return frames: the runs are the last frame's, in the style the earlier ones left", () => {
  const s = styledLogText(`${E}[32m 10%\r 50%\r${E}[1m100%${E}[0m\r\r`);
  assert.equal(s.text, "100%");
  assert.deepEqual(s.runs, [[0, 4, fg(2) | 1]]);
  const reset = styledLogText(`${E}[31mold${E}[0m\rnew`);
  assert.deepEqual([reset.text, reset.runs], ["new", []]);
});

test("a huge number of escapes stays linear and keeps at most MAX_RUNS runs", () => {
  const inputs = [`${E}[31mx${E}[32my`.repeat(100_000), `${E}[` + "1;".repeat(500_000) + "m", `${E}[38;5;1`.repeat(100_000), `${E}]x`.repeat(300_000)];
  for (const raw of inputs) {
    const t0 = performance.now();
    const s = styledLogText(raw);
    // A quadratic scan of these megabytes would take hours; a generous bound, not a speed target.
    assert.ok(performance.now() - t0 < 2_000);
    assert.equal(s.text, cleanLogText(raw));
    assert.ok(s.runs.length <= MAX_RUNS);
  }
  const many = styledLogText(`${E}[31mx${E}[32my`.repeat(1000));
  assert.equal(many.runs.length, MAX_RUNS);
  assert.deepEqual(many.runs.at(-1), [MAX_RUNS - 1, MAX_RUNS, fg(2)]);
});

test("a line cut by the splitter keeps its runs within the text", () => {
  const lines: LogLine[] = [];
  const s = new LineSplitter("stdout", (l) => lines.push(l), () => 0);
  s.write(`${E}[31m` + "r".repeat(MAX_LINE_CHARS) + `${E}[32mgreen\n${E}[1mbold\n`);
  s.end();
  assert.equal(lines.length, 2);
  const [cut, bold] = lines as [LogLine, LogLine];
  assert.match(cut.text, /line cut/);
  const marker = cut.text.indexOf(" … [line cut");
  for (const [a, b] of cut.sgr ?? []) assert.ok(a < b && b <= marker, "no run reaches the marker");
  assert.deepEqual(cut.sgr, [[0, MAX_LINE_CHARS - 5, fg(1)]]);
  assert.deepEqual(bold.sgr, [[0, 4, 1]]);
});

test("the build log keeps runs on a clean line and drops them on a line redaction changed", async () => {
  const stored: LogLine[] = [];
  const store = { appendLog: async (_id: string, ls: LogLine[]) => void stored.push(...ls) };
  const log = new BuildLog(store as never, "b1");
  registerSecret("hunter2-very-secret");
  const lines: LogLine[] = [];
  const s = new LineSplitter("stdout", (l) => lines.push(l), () => 0);
  s.write(`${E}[31mred${E}[0m plain\n${E}[31mtoken hunter2-very-secret${E}[0m tail\n`);
  for (const l of lines) log.add(l);
  await log.flush();
  assert.deepEqual(stored.map((l) => [l.text, l.sgr]), [["red plain", [[0, 3, fg(1)]]], ["token [REDACTED] tail", undefined]]);
  assert.ok(!JSON.stringify(stored).includes("sgr\":null"));
  assert.deepEqual(log.tail()[1]!.sgr, undefined);
});

test("a line the build log cuts keeps only the runs within what it keeps", async () => {
  const stored: LogLine[] = [];
  const log = new BuildLog({ appendLog: async (_id: string, ls: LogLine[]) => void stored.push(...ls) } as never, "b2");
  const text = "a".repeat(MAX_LINE_CHARS + 1000);
  log.add({ ts: 1, stream: "stdout", text, sgr: [[0, 10, fg(1)], [MAX_LINE_CHARS - 5, MAX_LINE_CHARS + 500, fg(2)], [MAX_LINE_CHARS + 600, MAX_LINE_CHARS + 700, fg(3)]] });
  await log.flush();
  assert.match(stored[0]!.text, /line cut/);
  assert.deepEqual(stored[0]!.sgr, [[0, 10, fg(1)], [MAX_LINE_CHARS - 5, MAX_LINE_CHARS, fg(2)]]);
});

test("a line a build secret was masked in loses its colours", () => {
  const mask = secretMask({ secrets: [{ name: "K", value: "sekrit-value" }], registryAuth: undefined } as never);
  const line = { ts: 1, stream: "stdout" as const, text: "key sekrit-value!", sgr: [[4, 16, fg(1)]] as [number, number, number][] };
  const masked = mask.line(line);
  assert.equal(masked.text, "key ***!");
  assert.equal(masked.sgr, undefined);
  assert.equal(mask.line({ ...line, text: "clean" }).sgr, line.sgr, "an unmasked line keeps them");
});
