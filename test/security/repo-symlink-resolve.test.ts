import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { createSourceArchive } from "../../src/source/archive.ts";
import { isMicroshipError } from "../../src/core/errors.ts";

/**
 * Hole 2: the archive judged a symlink by its target text. Links are now followed inside the
 * real tree, never above its root, and refused when they leave it, dangle or loop; a link at a
 * path microship reads or writes for itself is refused whatever it points at.
 */

function tree(t: { after(fn: () => void): void }, build: (dir: string) => void): { dir: string; out: string } {
  const base = mkdtempSync(join(tmpdir(), "ms-sec-res-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, "app");
  mkdirSync(dir);
  writeFileSync(join(dir, "index.js"), "1");
  build(dir);
  return { dir, out: join(base, "out.tgz") };
}

const userErrorNaming = (file: string, why: RegExp) => (e: unknown) =>
  isMicroshipError(e) && e.kind === "user" && e.location?.file === file && why.test(e.message) && e.message.includes(`\`${file}\``);

/** Each case: how to plant it, the file the error must name, and what the message says. */
const refused: Array<[string, (d: string) => void, string, RegExp]> = [
  ["a ladder whose every link text stays inside", (d) => {
    symlinkSync(".", join(d, "d"));
    symlinkSync("d/..", join(d, "u1"));
    for (let i = 2; i <= 12; i++) symlinkSync(`u${i - 1}/..`, join(d, `u${i}`));
    symlinkSync("u12/etc/hostname", join(d, "x"));
  }, "u1", /leads outside/],
  ["the issue's chain: d -> . and x -> d/d/../../../etc/hostname", (d) => {
    symlinkSync(".", join(d, "d"));
    symlinkSync("d/d/../../../etc/hostname", join(d, "x"));
  }, "x", /leads outside/],
  ["a link that leaves and comes back in by the root's own name", (d) => {
    symlinkSync(".", join(d, "d"));
    symlinkSync(`d/../${basename(d)}/index.js`, join(d, "x"));
  }, "x", /leads outside/],
  ["an absolute link to a file inside the tree", (d) => symlinkSync(join(d, "index.js"), join(d, "x")), "x", /leads outside/],
  ["a directory link up out of the tree", (d) => {
    mkdirSync(join(d, "sub"));
    symlinkSync("../..", join(d, "sub", "up"));
  }, "sub/up", /leads outside/],
  ["a dangling link", (d) => symlinkSync("nowhere/at/all", join(d, "x")), "x", /dangling/],
  ["a dangling link through a file", (d) => symlinkSync("index.js/x", join(d, "x")), "x", /dangling/],
  ["a loop of two", (d) => {
    symlinkSync("b", join(d, "a"));
    symlinkSync("a", join(d, "b"));
  }, "a", /loop/],
  ["a link to itself", (d) => symlinkSync("self", join(d, "self")), "self", /loop/],
  [".dockerignore as a link inside the tree", (d) => {
    writeFileSync(join(d, "ignore.txt"), "*.log\n");
    symlinkSync("ignore.txt", join(d, ".dockerignore"));
  }, ".dockerignore", /symlink/],
];

for (const [name, build, file, why] of refused) {
  test(`refused: ${name}`, async (t) => {
    const { dir, out } = tree(t, build);
    await assert.rejects(createSourceArchive(dir, { outPath: out }), userErrorNaming(file, why));
  });
}

test("refused: a Dockerfile link where microship puts its own Dockerfile, even one pointing inside", async (t) => {
  const { dir, out } = tree(t, (d) => {
    writeFileSync(join(d, "Dockerfile.prod"), "FROM x\n");
    symlinkSync("Dockerfile.prod", join(d, "Dockerfile"));
  });
  await assert.rejects(createSourceArchive(dir, { outPath: out, dockerfile: "FROM chosen\n" }), userErrorNaming("Dockerfile", /symlink/));
});

test("the messages name the path from the repository's top in a monorepo", async (t) => {
  const { dir, out } = tree(t, (d) => symlinkSync("/etc/hostname", join(d, "x")));
  await assert.rejects(createSourceArchive(dir, { outPath: out, appRoot: "apps/web" }), userErrorNaming("apps/web/x", /leads outside/));
});

test("links that stay inside are kept as links, however they get there", async (t) => {
  const { dir, out } = tree(t, (d) => {
    mkdirSync(join(d, "src"));
    writeFileSync(join(d, "src", "f.js"), "2");
    symlinkSync("src", join(d, "lib"));
    symlinkSync("lib/../index.js", join(d, "via-lib"));
    symlinkSync("./src/./f.js", join(d, "dotted"));
    symlinkSync(".", join(d, "here"));
    symlinkSync("here/here/src/f.js", join(d, "deep"));
  });
  await createSourceArchive(dir, { outPath: out });
  const listing = execFileSync("tar", ["-tvzf", out], { encoding: "utf8" });
  for (const l of ["lib -> src", "via-lib -> lib/../index.js", "dotted -> ./src/./f.js", "deep -> here/here/src/f.js"]) assert.ok(listing.includes(l), `${l}\n${listing}`);
});
