import { test } from "node:test";
import assert from "node:assert/strict";
import { platformStart, PLATFORM_FILE_MAX_BYTES } from "../../../src/detect/platform-start.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { repoWith } from "../../helpers/detect-context.ts";

async function startOf(files: Record<string, string>, root?: string) {
  const repo = repoWith(files, { config: root ? { root } : {} });
  try {
    return await platformStart(repo.ctx);
  } finally {
    repo.cleanup();
  }
}

test("each platform file's start command, named by file and key", async () => {
  assert.deepEqual(await startOf({ "nixpacks.toml": '[start]\ncmd = "node a.js"\n' }), { command: "node a.js", source: "`[start] cmd` in nixpacks.toml" });
  assert.deepEqual(await startOf({ "railway.json": '{"deploy":{"startCommand":" npm run serve "}}' }), { command: "npm run serve", source: "`deploy.startCommand` in railway.json" });
  assert.deepEqual(await startOf({ "railway.toml": '[deploy]\nstartCommand = "uvicorn m:app"\n' }), { command: "uvicorn m:app", source: "`[deploy] startCommand` in railway.toml" });
  assert.deepEqual(await startOf({ "render.yaml": "services:\n  - type: web\n    name: site\n    startCommand: node s.js\n" }), { command: "node s.js", source: "`startCommand` (service `site`) in render.yaml" });
  assert.equal(await startOf({ "package.json": "{}" }), null);
});

test("nixpacks.toml wins over railway and render when several say something", async () => {
  const got = await startOf({ "nixpacks.toml": '[start]\ncmd = "one"\n', "railway.json": '{"deploy":{"startCommand":"two"}}', "render.yaml": "services: [{type: web, startCommand: three}]\n" });
  assert.equal(got?.command, "one");
});

test("render.yaml: the one web service of this app's root; none when two claim it, or for a worker", async () => {
  const yaml = "services:\n  - {type: web, rootDir: api, startCommand: a}\n  - {type: worker, rootDir: web, startCommand: w}\n  - {type: web, rootDir: ./web/, startCommand: b}\n";
  assert.equal((await startOf({ "render.yaml": yaml, "api/x": "", "web/x": "" }, "api"))?.command, "a");
  assert.equal((await startOf({ "render.yaml": yaml, "api/x": "", "web/x": "" }, "web"))?.command, "b");
  assert.equal(await startOf({ "render.yaml": yaml }), null, "no service at the repository's root");
  assert.equal(await startOf({ "render.yaml": "services:\n  - {type: web, startCommand: a}\n  - {type: web, startCommand: b}\n" }), null);
});

test("what isn't one line of text, or doesn't parse, is passed over", async () => {
  const cases: Record<string, string>[] = [
    { "railway.json": '{"deploy":{"startCommand":["node","a.js"]}}' },
    { "railway.json": '{"deploy":{"startCommand":"node a.js\\nrm -rf /"}}' },
    { "railway.json": `{"deploy":{"startCommand":"${"x".repeat(3000)}"}}` },
    { "railway.json": '{"deploy":{"startCommand":"   "}}' },
    { "railway.json": "{not json" },
    { "nixpacks.toml": "[start\ncmd = 1" },
    { "render.yaml": "services: [unclosed" },
    { "render.yaml": "- a list at the top" },
    { "railway.json": '{"__proto__":{"startCommand":"polluted"}}' },
  ];
  for (const files of cases) assert.equal(await startOf(files), null, JSON.stringify(files).slice(0, 80));
});

test("attack: a YAML alias bomb is refused by the parser's alias limit, not expanded", async () => {
  const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`), "services: [{type: web, startCommand: *i}]"].join("\n");
  // Unbounded, this would expand to 10^9 nodes and never finish; bounded, it's a parse error.
  assert.equal(await startOf({ "render.yaml": bomb }), null);
  // A plain alias still works: the limit is on expansion, not on aliases.
  assert.equal((await startOf({ "render.yaml": "x: &cmd node s.js\nservices: [{type: web, startCommand: *cmd}]\n" }))?.command, "node s.js");
});

test("attack: a platform file over the cap, or a link out of the repository, is a user error, never read", async () => {
  const big = await startOf({ "railway.json": `{"deploy":{"startCommand":"node a.js"},"pad":"${"x".repeat(PLATFORM_FILE_MAX_BYTES)}"}` }).then(() => null, (e: unknown) => e);
  assert.ok(isMicroshipError(big) && big.kind === "user", String(big));
  const repo = repoWith({}, { symlinks: { "render.yaml": "../outside/render.yaml" }, outside: { "render.yaml": "services: [{type: web, startCommand: corpus-secret-value}]" } });
  try {
    const err = await platformStart(repo.ctx).then(() => null, (e: unknown) => e);
    assert.ok(isMicroshipError(err) && err.kind === "user", String(err));
    assert.doesNotMatch(`${err.message} ${err.hint ?? ""}`, /corpus-secret-value/);
  } finally {
    repo.cleanup();
  }
});
