import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * The shape of the house: core owns the ports and imports no adapter, and no folder of src/
 * imports one that (through any path) imports it back. Read off the import lines themselves,
 * so a new file can't slip past it.
 */

const SRC = resolve(import.meta.dirname, "../../../src");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** The folder of src/ a file belongs to; files at the top are the composition root. */
const folderOf = (file: string) => {
  const parts = relative(SRC, file).split(sep);
  return parts.length === 1 ? "(root)" : parts[0]!;
};

/** Relative specifiers of import and export-from statements, static and dynamic. */
function relativeImports(source: string): string[] {
  const out: string[] = [];
  for (const line of source.split("\n")) {
    const trimmed = line.trimStart();
    if (!trimmed.startsWith("import") && !trimmed.startsWith("export") && !trimmed.startsWith("} from") && !line.includes("import(")) continue;
    for (const quote of ['"', "'"]) {
      let at = line.indexOf(`${quote}.`);
      while (at !== -1) {
        const end = line.indexOf(quote, at + 1);
        if (end === -1) break;
        out.push(line.slice(at + 1, end));
        at = line.indexOf(`${quote}.`, end + 1);
      }
    }
  }
  return out;
}

function folderGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of tsFiles(SRC)) {
    const from = folderOf(file);
    for (const spec of relativeImports(readFileSync(file, "utf8"))) {
      const to = folderOf(resolve(dirname(file), spec));
      if (to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string[]>();
      graph.set(from, edges);
      edges.set(to, [...(edges.get(to) ?? []), `${relative(SRC, file)} imports ${spec}`]);
    }
  }
  return graph;
}

test("nothing in src/core imports from another folder of src/", () => {
  const out = folderGraph().get("core") ?? new Map();
  assert.deepEqual([...out.values()].flat(), []);
});

test("no folder of src/ imports one that imports it back, directly or through others", () => {
  const graph = folderGraph();
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
    if (from === to) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return [...(graph.get(from)?.keys() ?? [])].some((next) => reaches(next, to, seen));
  };
  const cycles: string[] = [];
  for (const [from, edges] of graph) {
    for (const [to, why] of edges) if (reaches(to, from)) cycles.push(`${from} -> ${to} (${why[0]}) and back`);
  }
  assert.deepEqual(cycles, []);
});

test("the check itself sees imports, and sees a cycle", () => {
  assert.deepEqual(relativeImports(`import type { A } from "../core/a.ts";\nexport { b } from './b.ts';\nconst c = await import("../c.ts");\nconst s = "./not-an-import";`), ["../core/a.ts", "./b.ts", "../c.ts"]);
  const graph = folderGraph();
  assert.ok(graph.get("builder")?.has("core"), "builder imports core");
  assert.ok(graph.get("(root)")?.has("core"), "the composition root imports core");
});
