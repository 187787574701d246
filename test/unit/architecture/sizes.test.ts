import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";

/**
 * Small files with one job, and functions short enough to read at once: no file in src/ over 250
 * lines, no function over 60. Measured with the TypeScript parser, so a function is whatever the
 * language says one is (methods, arrows and accessors included), from its first line to its last.
 */

const SRC = resolve(import.meta.dirname, "../../../src");
const MAX_FILE_LINES = 250;
const MAX_FUNCTION_LINES = 60;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

const lineCount = (text: string) => text.split("\n").length - (text.endsWith("\n") ? 1 : 0);

function longFunctions(file: string, text: string, max: number): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : "(anonymous)";
      if (last - first + 1 > max) out.push(`${relative(SRC, file)}:${first + 1} ${name} is ${last - first + 1} lines`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

test(`no file in src/ is over ${MAX_FILE_LINES} lines`, () => {
  const long = tsFiles(SRC)
    .map((f) => [relative(SRC, f), lineCount(readFileSync(f, "utf8"))] as const)
    .filter(([, n]) => n > MAX_FILE_LINES)
    .map(([f, n]) => `${f} is ${n} lines`);
  assert.deepEqual(long, []);
});

test(`no function in src/ is over ${MAX_FUNCTION_LINES} lines`, () => {
  assert.deepEqual(tsFiles(SRC).flatMap((f) => longFunctions(f, readFileSync(f, "utf8"), MAX_FUNCTION_LINES)), []);
});

test("the measure sees methods, arrows and nested functions", () => {
  const body = (n: number) => Array.from({ length: n }, (_, i) => `  x${i}();`).join("\n");
  const text = `class A {\n  m() {\n${body(5)}\n  }\n}\nconst f = () => {\n${body(5)}\n};\nfunction outer() {\n  function inner() {\n${body(5)}\n  }\n}\n`;
  assert.deepEqual(longFunctions(join(SRC, "x.ts"), text, 6), ["x.ts:2 m is 7 lines", "x.ts:10 (anonymous) is 7 lines", "x.ts:17 outer is 9 lines", "x.ts:18 inner is 7 lines"]);
});
