import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { redact, redactValue } from "../../src/core/redact.ts";
import { fastestMs } from "../helpers/fastest-ms.ts";
import { mulberry32 } from "../helpers/mulberry32.ts";

// A build line reaches redact() on every log write and every view of the log page, so each of
// these, built against one pattern, would block the event loop for seconds to minutes under a
// backtracking regex (the first took 40 s at 256 KiB). Linear code does 1 MiB in a few ms; the
// bound leaves room for a busy shared machine and stays far below the catastrophic case.
const BOUND_MS = 50;
const MiB = 1024 * 1024;
const fill = (unit: string, bytes = MiB) => unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);

const ADVERSARIAL: [string, string][] = [
  ["the issue's 256 KiB line of eyJ-", fill("eyJ-", 256 * 1024)],
  ["1 MiB of eyJ-", fill("eyJ-")],
  ["JWT heads whose second segment never ends in a dot", fill("eyJaaaaaaaa.bbbbbbbb-")],
  ["JWT heads with two segments and a tail of dashes", " " + fill("eyJaaaaaaaa.bbbbbbbb.--------")],
  ["PEM headers with no end marker", fill("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n")],
  ["PEM header, then end markers that never close", "-----BEGIN PRIVATE KEY-----" + fill("-----END PRIVATE KEY---")],
  ["PEM labels that run long", fill("-----BEGIN " + "A".repeat(4000))],
  ["GitHub token prefixes one short", fill("-ghp_" + "a".repeat(19))],
  ["authorization with endless spaces", "authorization:" + fill(" ")],
  ["authorization headers with a scheme and no value", fill('proxy-authorization: bearer "')],
  ["bearer followed by short values", fill("bearer " + "a".repeat(15) + " ")],
  ["token with endless spaces", "token" + fill(" ")],
  ["URL userinfo with no @", "//a:" + fill(":")],
  ["URL starts with long users", fill("//" + "u".repeat(1000) + ":")],
  ["nested URL starts", fill("//a:b")],
];

for (const [name, input] of ADVERSARIAL) {
  test(`redact is linear: ${name}`, () => {
    const ms = fastestMs(() => redact(input));
    assert.ok(ms < BOUND_MS, `${name}: ${ms.toFixed(1)} ms`);
  });
}

test("redactValue is linear in a huge key and a huge value", () => {
  const key = fill("a");
  const ms = fastestMs(() => redactValue({ [key]: fill("eyJ-"), authorization: "x", ["token" + key]: 1 }));
  assert.ok(ms < 3 * BOUND_MS, `${ms.toFixed(1)} ms`);
});

// The rewrite must redact exactly what the old patterns did: they are the reference here, run only
// on short strings where their backtracking costs nothing.
const R = "[REDACTED]";
const OLD: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, R],
  [/\b(?:gh[pousr]|github_pat)_[A-Za-z0-9_]{20,}\b/g, R],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, R],
  [/((?:authorization|proxy-authorization)\s*[:=]\s*"?(?:bearer|basic|token)\s+)[^\s"',;]+/gi, `$1${R}`],
  [/(\b(?:bearer|token)\s+)[A-Za-z0-9._~+\/=-]{16,}/gi, `$1${R}`],
  [/(\/\/[^\/\s:@]+:)[^@\s\/]+(@)/g, `$1${R}$2`],
];
const reference = (text: string) => OLD.reduce((out, [re, rep]) => out.replace(re, rep), text);

const PIECES = [
  "eyJ", "eyJ", "a", "b", "Z", "9", "_", "-", "-", ".", ".", " ", "\n", "=", "é",
  "-----BEGIN ", "-----END ", "-----", "PRIVATE KEY", "RSA ", "EC ",
  "ghp_", "github_pat_", "aaaaaaaaaa", "token ", "Bearer ", "authorization: ", "Authorization=", '"', "//", ":", "@", "/",
];

test("the scanners redact exactly what the old patterns did, on 20,000 random lines", () => {
  const rand = mulberry32(20261203);
  for (let i = 0; i < 20_000; i++) {
    let s = "";
    const n = 1 + Math.floor(rand() * 40);
    for (let j = 0; j < n; j++) s += PIECES[Math.floor(rand() * PIECES.length)];
    assert.equal(redact(s), reference(s), JSON.stringify(s));
  }
});

test("real credentials are still scrubbed next to adversarial noise", () => {
  const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
  const pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----";
  const out = redact(`${fill("eyJ-", 4096)} ${jwt} ${fill("-----BEGIN ", 4096)}${pem} tail`);
  assert.ok(!out.includes("c2lnbmF0dXJl") && !out.includes("b3BlbnNzaC1rZXk"), out.slice(-300));
  assert.ok(out.endsWith(`${R} tail`));
});
