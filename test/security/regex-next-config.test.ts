import { test } from "node:test";
import assert from "node:assert/strict";
import { setsStandaloneOutput, NEXT_CONFIG_SCAN_BYTES } from "../../src/detect/providers/node/next-standalone.ts";
import { fastestMs } from "../helpers/fastest-ms.ts";

// A fork's next.config is the attacker's text, scanned on the host. The scan is one pass with no
// regex, so the inputs that make a backtracking pattern like /output\s*:\s*["'](\w+)["']/ crawl
// (long runs of near-matches that fail at their end) take a few ms for the whole scanned size.
const BOUND_MS = 200;
const fill = (unit: string) => unit.repeat(Math.floor(NEXT_CONFIG_SCAN_BYTES / unit.length));

const ADVERSARIAL: [string, string][] = [
  ["near-matches: output with a colon and no value", fill("output:")],
  ["near-matches: output, whitespace runs, an unterminated string", fill("output  :  \"standalon")],
  ["one unterminated string", "\"" + fill("\\a")],
  ["one unterminated block comment", "/*" + fill("*")],
  ["alternating comment openers", fill("/*/")],
  ["quotes of every kind, nested", fill("'\"`")],
  ["one long identifier", fill("a")],
];

for (const [what, text] of ADVERSARIAL) {
  test(`the next.config scan stays linear: ${what}`, () => {
    let result = true;
    const ms = fastestMs(() => (result = setsStandaloneOutput(text)));
    assert.equal(result, false);
    assert.ok(ms < BOUND_MS, `${what}: ${ms.toFixed(1)} ms for ${text.length} bytes`);
  });
}
