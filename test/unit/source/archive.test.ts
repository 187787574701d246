import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, utimesSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSourceArchive } from "../../../src/source/archive.ts";
import { dockerignoreMatcher } from "../../../src/source/dockerignore.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tree(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "ms-arch-"));
  dirs.push(d);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(d, p, ".."), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}

function out(): string {
  const d = mkdtempSync(join(tmpdir(), "ms-out-"));
  dirs.push(d);
  return join(d, "src.tar.gz");
}
const list = (file: string) => execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).trim().split("\n").filter(Boolean).sort();

test("the same tree gives the same bytes, whenever its files were touched; a change changes the hash", async () => {
  const d = tree({ "package.json": "{}", "src/index.js": "1", "README.md": "x" });
  const a = await createSourceArchive(d, { outPath: out() });
  utimesSync(join(d, "src/index.js"), new Date(), new Date(2020, 1, 1));
  const b = await createSourceArchive(d, { outPath: out() });
  assert.equal(a.sha256, b.sha256);
  assert.equal(a.fileCount, 3);
  writeFileSync(join(d, "src/index.js"), "2");
  assert.notEqual((await createSourceArchive(d, { outPath: out() })).sha256, a.sha256);
  const verbose = execFileSync("tar", ["-tvzf", a.path], { encoding: "utf8" });
  const year = String(new Date().getFullYear());
  assert.ok(verbose.split("\n").filter(Boolean).every((l) => l.includes(" 0/0 ") && !l.includes(`${year}-`)), verbose);
});

test("the exec bit is kept", async () => {
  const d = tree({ "run.sh": "#!/bin/sh" });
  chmodSync(join(d, "run.sh"), 0o755);
  const a = await createSourceArchive(d, { outPath: out() });
  assert.match(execFileSync("tar", ["-tvzf", a.path], { encoding: "utf8" }), /^-rwxr-xr-x/m);
});

test(".dockerignore follows Docker: anchored patterns, **, ! exceptions, leading /", async () => {
  const d = tree({
    ".dockerignore": "node_modules\n**/*.log\n/secret.txt\ndocs\n!docs/keep.md\n",
    "node_modules/x/index.js": "", "sub/node_modules/y.js": "", "a.log": "", "sub/b.log": "", "secret.txt": "", "docs/keep.md": "", "docs/drop.md": "", "index.js": "",
  });
  const a = await createSourceArchive(d, { outPath: out() });
  assert.equal(a.dockerignoreUsed, "repo");
  const names = list(a.path);
  assert.ok(names.includes("sub/node_modules/y.js"), "node_modules is anchored at the root, as in Docker");
  assert.ok(!names.some((n) => n.startsWith("node_modules")));
  assert.ok(!names.some((n) => n.endsWith(".log")));
  assert.ok(!names.includes("secret.txt"));
  assert.ok(names.includes("docs/keep.md") && !names.includes("docs/drop.md"));
});

test("a generated .dockerignore applies when the repo has none", async () => {
  const d = tree({ ".env": "TOKEN=x", ".env.local": "y", ".git/HEAD": "ref", "app.py": "" });
  const a = await createSourceArchive(d, { outPath: out(), dockerignore: ".git\nnode_modules\n__pycache__\n.venv\n.env*\n" });
  assert.equal(a.dockerignoreUsed, "generated");
  assert.deepEqual(list(a.path), ["app.py"]);
});

test("a symlink out of the tree is a user error naming it; one inside is kept", async () => {
  const d = tree({ "a.txt": "a" });
  symlinkSync("a.txt", join(d, "inside"));
  await createSourceArchive(d, { outPath: out() });
  symlinkSync("../../etc/passwd", join(d, "escape"));
  await assert.rejects(createSourceArchive(d, { outPath: out() }), (e) => isMicroshipError(e) && e.kind === "user" && /escape/.test(e.message));
});

test("a FIFO is refused, and caps are enforced", async () => {
  const d = tree({ "a.txt": "aaaa" });
  execFileSync("mkfifo", [join(d, "pipe")]);
  await assert.rejects(createSourceArchive(d, { outPath: out() }), /named pipe/);
  const big = tree({ "a.txt": "x".repeat(2000) });
  await assert.rejects(createSourceArchive(big, { outPath: out(), maxBytes: 1000 }), /larger than/);
});

test("dockerignore matcher table", () => {
  const m = dockerignoreMatcher("*.md\n!README.md\n/build\n**/tmp\n");
  assert.equal(m("notes.md", false), true);
  assert.equal(m("README.md", false), false);
  assert.equal(m("sub/notes.md", false), false, "*.md matches only at the root in Docker");
  assert.equal(m("build", true), true);
  assert.equal(m("a/b/tmp", true), true);
});
