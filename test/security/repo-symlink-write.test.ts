import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { c as tarCreate } from "tar";
import { withRootDockerfile } from "../../src/builder/hypeman/root-dockerfile.ts";
import type { SourceArchive } from "../../src/core/builder.ts";
import { createSourceArchive } from "../../src/source/archive.ts";
import { hostDir, pushAndWait, startRepoHarness } from "./repo-harness.ts";

/**
 * Hole 1: microship wrote the generated Dockerfile into the checkout, through whatever the
 * repository had put at that path. Hole 2 (the write half): the Hypeman repack unpacked the
 * archive and wrote `Dockerfile` through a link in it. Nothing is written into a checkout now.
 */

const NODE_APP = { "package.json": JSON.stringify({ name: "app", scripts: { start: "node index.js" } }), "index.js": "console.log(1)\n" };

test("a Dockerfile committed as a link to a host path (absolute, or a chain through `d -> .`) creates nothing there; the check fails naming Dockerfile", async (t) => {
  const host = hostDir(t);
  const { h, builder } = await startRepoHarness();
  t.after(() => h.stop());
  // The checkout is <data>/work/checkout-XXXXXX: this many `..` from it reach /.
  const depth = realpathSync(h.dataDir).split("/").filter(Boolean).length + 2;
  const cases: Array<[string, Record<string, { symlink: string }>, string]> = [
    ["absolute", { Dockerfile: { symlink: join(host, "pwned-absolute") } }, "pwned-absolute"],
    ["chain", { d: { symlink: "." }, Dockerfile: { symlink: `d/d/${"../".repeat(depth)}${host.slice(1)}/pwned-chain` } }, "pwned-chain"],
    ["ladder", { d: { symlink: "." }, u1: { symlink: "d/.." }, ...Object.fromEntries(Array.from({ length: depth + 2 }, (_, i) => [`u${i + 2}`, { symlink: `u${i + 1}/..` }])), Dockerfile: { symlink: `u${depth + 3}${host}/pwned-ladder` } }, "pwned-ladder"],
    ["dir chain", { d: { symlink: "." }, up: { symlink: `d/${"../".repeat(depth)}${host.slice(1)}` }, Dockerfile: { symlink: "up/pwned-dir" } }, "pwned-dir"],
  ];
  for (const [name, links, planted] of cases) {
    const run = await pushAndWait(h, `attack-${name.replace(" ", "-")}`, { ...NODE_APP, ".github/microship.yml": "start: echo PLANTED-BY-CONFIG\n", ...links });
    assert.equal(existsSync(join(host, planted)), false, `${name}: microship created ${planted} outside the checkout`);
    assert.equal(run.conclusion, "failure", `${name}: ${run.everything.slice(0, 400)}`);
    assert.match(run.everything, /`Dockerfile` (is a symlink|leads outside the repository)/, name);
  }
  assert.equal(builder.inputs.length, 0, "nothing reached the builder");
});

test("the chosen Dockerfile travels in the archive stream: a repo's own Dockerfile is replaced there, and the checkout is left as it was", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "ms-sec-src-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "Dockerfile"), "FROM theirs\n");
  writeFileSync(join(dir, "app.js"), "1");
  const before = statSync(join(dir, "Dockerfile")).mtimeMs;
  const a = await createSourceArchive(dir, { outPath: join(dir, "..", `${dir.split("/").pop()}.tgz`), dockerfile: "FROM ours\n" });
  t.after(() => rmSync(a.path, { force: true }));
  const names = execFileSync("tar", ["-tzf", a.path], { encoding: "utf8" }).trim().split("\n");
  assert.deepEqual(names, ["Dockerfile", "app.js"], "one Dockerfile, first");
  assert.equal(execFileSync("tar", ["-xzOf", a.path, "Dockerfile"], { encoding: "utf8" }), "FROM ours\n");
  assert.equal(statSync(join(dir, "Dockerfile")).mtimeMs, before, "the checkout's file was not touched");
});

/** A tar.gz made by hand, as a custom archiver (or an attacker) might hand it over. */
async function handMadeArchive(t: { after(fn: () => void): void }, build: (dir: string) => void): Promise<SourceArchive> {
  const base = mkdtempSync(join(tmpdir(), "ms-sec-hand-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, "tree");
  mkdirSync(dir);
  build(dir);
  const path = join(base, "source.tar.gz");
  await tarCreate({ gzip: true, cwd: dir, file: path, portable: true }, execFileSync("ls", ["-A", dir], { encoding: "utf8" }).trim().split("\n"));
  return { path, open: () => createReadStream(path), sha256: "", sizeBytes: statSync(path).size, fileCount: 0 };
}

test("the Hypeman repack never writes through a Dockerfile link in the archive", async (t) => {
  const host = hostDir(t);
  const variants: Array<[string, (dir: string) => void]> = [
    // Every link's text stays inside by itself (tar's own check passes it); followed, the ladder climbs to /.
    ["ladder", (d) => {
      symlinkSync(".", join(d, "d"));
      symlinkSync("d/..", join(d, "u1"));
      for (let i = 2; i <= 12; i++) symlinkSync(`u${i - 1}/..`, join(d, `u${i}`));
      symlinkSync(`u12${host}/via-ladder`, join(d, "Dockerfile"));
    }],
    ["relative", (d) => symlinkSync(`${"../".repeat(40)}${host.slice(1)}/via-relative`, join(d, "Dockerfile"))],
    ["chain", (d) => {
      symlinkSync(".", join(d, "d"));
      symlinkSync(`d/d/${"../".repeat(40)}${host.slice(1)}/via-chain`, join(d, "Dockerfile"));
    }],
    ["absolute", (d) => symlinkSync(join(host, "via-absolute"), join(d, "Dockerfile"))],
  ];
  for (const [name, build] of variants) {
    const source = await handMadeArchive(t, (d) => {
      writeFileSync(join(d, "app.js"), "1");
      build(d);
    });
    const scratch = mkdtempSync(join(tmpdir(), "ms-sec-scratch-"));
    t.after(() => rmSync(scratch, { recursive: true, force: true }));
    const out = join(scratch, "sent.tar.gz");
    await pipeline(await withRootDockerfile(source, "FROM chosen\n", scratch), createWriteStream(out));
    assert.deepEqual(execFileSync("ls", ["-A", host], { encoding: "utf8" }), "", `${name}: a file was written on the host`);
    const listing = execFileSync("tar", ["-tvzf", out], { encoding: "utf8" }).trim().split("\n").filter((l) => / Dockerfile( |$)/.test(l));
    assert.equal(listing.length, 1, `${name}: one Dockerfile entry\n${listing.join("\n")}`);
    assert.match(listing[0]!, /^-/, `${name}: the Dockerfile sent is a regular file`);
    assert.equal(execFileSync("tar", ["-xzOf", out, "Dockerfile"], { encoding: "utf8" }), "FROM chosen\n");
  }
});

test("an archive of microship's own goes to Hypeman as it is, without a repack", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "ms-sec-own-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "app"));
  writeFileSync(join(dir, "app", "index.js"), "1");
  const a = await createSourceArchive(join(dir, "app"), { outPath: join(dir, "a.tgz"), dockerfile: "FROM chosen\n" });
  // The first open is the check that the root Dockerfile is the chosen one; the second is what is sent.
  const marker = Readable.from(["original"]);
  let opens = 0;
  const sent = await withRootDockerfile({ ...a, open: () => (++opens === 1 ? a.open() : marker) }, "FROM chosen\n", dir);
  assert.equal(sent, marker);
});
