import { test, after } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { dockerignoreMatcher, MAX_DOCKERIGNORE_LINES } from "../../src/source/dockerignore.ts";
import { createSourceArchive } from "../../src/source/archive.ts";
import { isMicroshipError, type MicroshipError } from "../../src/core/errors.ts";
import { fastestMs } from "../helpers/fastest-ms.ts";
import { mulberry32 } from "../helpers/mulberry32.ts";

// A fork's .dockerignore and the paths of its tree are both the attacker's. Under the old
// regex translation (`**` became a backtracking `.*`) each of these froze the app for seconds
// to minutes; linear matching does 1 MiB of them in a few ms. The bound leaves room for a busy
// shared machine and stays far below the catastrophic case.
const BOUND_MS = 50;
const MiB = 1024 * 1024;

/** `count` paths of about `len` characters, so the paths add up to about 1 MiB. */
function paths(make: (i: number) => string): string[] {
  const out: string[] = [];
  let total = 0;
  for (let i = 0; total < MiB; i++) {
    const p = make(i);
    out.push(p);
    total += p.length;
  }
  return out;
}

const pad = (unit: string, len: number) => unit.repeat(Math.floor(len / unit.length));

// Each path holds the pattern's literal runs in order (so no quick string search turns it away)
// and still fails to match at its end, which is where a backtracking matcher explodes.
const runs = (i: number) => pad("a", 2000) + "b" + pad("a", 1990) + i;
const tree = (i: number) => pad("a/", 2000) + "b/" + pad("a/", 1990) + i;
const ADVERSARIAL: [string, string, string[]][] = [
  ["`**a` repeated, against runs of a", pad("**a", 4000) + "b", paths(runs)],
  ["`**a` repeated, against a deep tree of a", pad("**a", 4000) + "b", paths(tree)],
  ["`*a` repeated, against runs of a", pad("*a", 4000) + "b", paths(runs)],
  ["`**/a/` repeated, against a deep tree", pad("**/a/", 4000) + "b", paths(tree)],
  ["`*/` repeated, against a deep tree", pad("*/", 4000) + "b", paths(tree)],
  ["`?*` repeated, against runs of a", pad("?*", 4000) + "b", paths(runs)],
  ["classes and stars", pad("[a-z]*", 4000) + "!", paths(runs)],
  ["`**` and `*` mixed", pad("***a*", 4000) + "/b", paths(tree)],
  ["`**` then a long run", "**" + pad("a", 100) + "b", paths(runs)],
];

for (const [name, pattern, inputs] of ADVERSARIAL) {
  test(`dockerignore is linear: ${name}`, () => {
    const ignored = dockerignoreMatcher(`${pattern}\n!${pattern}x\n`);
    const ms = fastestMs(() => inputs.forEach((p) => ignored(p, false)));
    assert.ok(ms < BOUND_MS, `${name}: ${ms.toFixed(1)} ms for ${inputs.length} paths`);
  });
}

test("dockerignore is bounded where a loop can't cover the threads before it: `a**/` repeated", () => {
  const ignored = dockerignoreMatcher(pad("a**/", 4000) + "b\n");
  const t0 = performance.now();
  // Refused as the user's error once the steps run out, never a stall.
  assert.throws(() => paths(tree).forEach((p) => ignored(p, false)), /too costly to match/);
  assert.ok(performance.now() - t0 < 4 * BOUND_MS, `${(performance.now() - t0).toFixed(1)} ms`);
});

test("a 10,000-line .dockerignore against a long path stays linear", () => {
  const lines = Array.from({ length: MAX_DOCKERIGNORE_LINES }, (_, i) => (i % 2 ? `**/*.${i}` : `!**/a*a*a*${i}`));
  const ignored = dockerignoreMatcher(lines.join("\n"));
  const path = pad("a/", 200) + "x.log";
  const ms = fastestMs(() => ignored(path, false));
  assert.ok(ms < 20 * BOUND_MS, `${ms.toFixed(1)} ms`);
});

function expectUserError(fn: () => unknown, line: number, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isMicroshipError(e), `not a typed error: ${String(e)}`);
    const err = e as MicroshipError;
    assert.equal(err.kind, "user");
    assert.deepEqual(err.location, { file: ".dockerignore", line });
    assert.match(err.message, message);
    return true;
  });
}

test("a pattern built to be slow on a path is a user error naming its line, found quickly", () => {
  const ignored = dockerignoreMatcher(`node_modules\n**${"a".repeat(4000)}b\n`);
  const t0 = performance.now();
  expectUserError(() => ignored("a".repeat(4090) + "ab", false), 2, /^\.dockerignore:2: .* too costly to match/);
  assert.ok(performance.now() - t0 < 10 * BOUND_MS);
});

test("[z-a], an unclosed [ and oversize files are user errors naming .dockerignore and the line", () => {
  expectUserError(() => dockerignoreMatcher("node_modules\n# ranges\n[z-a]\n"), 3, /^\.dockerignore:3: `\[z-a\]` is not a valid pattern: the range `z-a`/);
  expectUserError(() => dockerignoreMatcher("!docs/[abc"), 1, /no closing `\]`/);
  expectUserError(() => dockerignoreMatcher(`a\n${"*".repeat(5000)}\n`), 2, /longer than 4096 characters/);
  expectUserError(() => dockerignoreMatcher("x\n".repeat(MAX_DOCKERIGNORE_LINES + 1)), MAX_DOCKERIGNORE_LINES + 1, /more than 10000 lines/);
  assert.doesNotThrow(() => dockerignoreMatcher("x\n".repeat(MAX_DOCKERIGNORE_LINES)));
});

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function repo(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "ms-ign-"));
  dirs.push(d);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(d, p, ".."), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}

test("on the real archive path: [z-a] fails the build as the user's error, and a hostile file is fast", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "ms-ign-out-")), "src.tar.gz");
  dirs.push(join(out, ".."));
  const bad = repo({ ".dockerignore": "dist\n[z-a]\n", "index.js": "" });
  await assert.rejects(createSourceArchive(bad, { outPath: out }), (e) => isMicroshipError(e) && e.kind === "user" && e.location?.line === 2 && /\.dockerignore/.test(e.message));
  // Deep, within what a portable tar header holds.
  const deep = pad("a/", 120) + "a";
  const hostile = repo({ ".dockerignore": `${pad("**a", 4000)}b\n**/*.log\n!${pad("*a", 4000)}\n`, [`${deep}/x.log`]: "", [`${deep}/keep.js`]: "", "index.js": "" });
  const t0 = performance.now();
  const a = await createSourceArchive(hostile, { outPath: out });
  assert.ok(performance.now() - t0 < 5_000);
  const names = execFileSync("tar", ["-tzf", a.path], { encoding: "utf8" });
  assert.ok(names.includes("keep.js") && !names.includes("x.log"));
});

// The old translation is the reference: on short inputs its backtracking costs nothing, and
// the new matcher must agree with it on every pattern it could compile.
function referenceMatcher(text: string): (p: string) => boolean {
  const toRegex = (pattern: string): RegExp => {
    let re = "";
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i]!;
      if (ch === "*") {
        if (pattern[i + 1] === "*") {
          i++;
          if (pattern[i + 1] === "/") {
            i++;
            re += "(?:.*/)?";
          } else re += ".*";
        } else re += "[^/]*";
      } else if (ch === "?") re += "[^/]";
      else if (ch === "[") {
        const end = pattern.indexOf("]", i + 1);
        if (end === -1) re += "\\[";
        else {
          re += `[${pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
          i = end;
        }
      } else if (ch === "\\" && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
      else re += ch.replace(/[.+^${}()|\\]/g, "\\$&");
    }
    return new RegExp(`^${re}$`);
  };
  const clean = (p: string) => {
    const parts: string[] = [];
    for (const seg of p.split("/")) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") parts.pop();
      else parts.push(seg);
    }
    return parts.join("/");
  };
  const rules: { regex: RegExp; exclusion: boolean }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const exclusion = line.startsWith("!");
    const pattern = clean((exclusion ? line.slice(1) : line).trim());
    if (pattern) rules.push({ regex: toRegex(pattern), exclusion });
  }
  return (relPath) => {
    const segments = relPath.split("/");
    const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join("/"));
    let excluded = false;
    for (const rule of rules) if (prefixes.some((p) => rule.regex.test(p))) excluded = !rule.exclusion;
    return excluded;
  };
}

const PATTERN_PIECES = ["a", "b", "ab", "/", "/", "*", "*", "**", "**/", "?", ".", "-", "[ab]", "[!a]", "[^b]", "[a-c]", "[/]", "[!/]", "[]", "[!]", "\\*", "\\?", "..", "x*y", "!", "é", "[à-ü]"];
const PATH_SEGMENTS = ["a", "b", "ab", "ba", "aab", "a.b", ".", "*", "?", "x-y", "c", "bb", "-", "é", "aé"];

test("fuzz: 20,000 random .dockerignore files agree with the old translation, each call well under 1 s", () => {
  const rand = mulberry32(9);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  let slowest = 0;
  let excludedSome = 0;
  let unclosed = 0;
  for (let i = 0; i < 20_000; i++) {
    const lines: string[] = [];
    for (let l = 1 + Math.floor(rand() * 4); l > 0; l--) {
      let p = rand() < 0.3 ? "!" : rand() < 0.1 ? "/" : "";
      for (let k = 1 + Math.floor(rand() * 6); k > 0; k--) p += pick(PATTERN_PIECES);
      lines.push(p);
    }
    const text = lines.join("\n");
    let reference: (p: string) => boolean;
    try {
      reference = referenceMatcher(text);
    } catch {
      // The old code crashed on a range it could not compile: now it is the user's error.
      assert.throws(() => dockerignoreMatcher(text), (e) => isMicroshipError(e) && e.kind === "user", text);
      continue;
    }
    let ignored: (p: string, isDir: boolean) => boolean;
    try {
      ignored = dockerignoreMatcher(text);
    } catch (e) {
      // The old code read an unclosed `[` as a literal; Docker refuses it, and so do we now.
      assert.ok(isMicroshipError(e) && /no closing/.test(e.message), String(e));
      unclosed++;
      continue;
    }
    for (let j = 0; j < 4; j++) {
      const path = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => pick(PATH_SEGMENTS)).join("/");
      const t0 = performance.now();
      const got = ignored(path, false);
      slowest = Math.max(slowest, performance.now() - t0);
      assert.equal(got, reference(path), `${JSON.stringify(text)} on ${path}`);
      if (got) excludedSome++;
    }
  }
  assert.ok(slowest < 1_000, `${slowest} ms`);
  assert.ok(excludedSome > 5_000, `only ${excludedSome} matches: the fuzz would prove little`);
  assert.ok(unclosed < 1_000, `${unclosed} files skipped`);
});
