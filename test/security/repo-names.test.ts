import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSourceArchive } from "../../src/source/archive.ts";
import { isMicroshipError } from "../../src/core/errors.ts";
import { OWNER, REPO } from "../helpers/microship-harness.ts";
import { pushAndWait, sendAndWait, startRepoHarness } from "./repo-harness.ts";

/**
 * Hole 14 (part): repository faults that surfaced as service faults. A file name that is not
 * UTF-8, and a .dockerignore that leaves nothing, are user errors that name the file.
 */

function tree(t: { after(fn: () => void): void }): { dir: string; out: string } {
  const base = mkdtempSync(join(tmpdir(), "ms-sec-names-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  mkdirSync(join(base, "app"));
  return { dir: join(base, "app"), out: join(base, "out.tgz") };
}

test("a file name that is not UTF-8 is a user error showing the name escaped", async (t) => {
  const { dir, out } = tree(t);
  writeFileSync(join(dir, "index.js"), "1");
  mkdirSync(join(dir, "src"));
  // "caf\xe9.txt" in Latin-1, as an old Windows tool might commit it.
  writeFileSync(Buffer.concat([Buffer.from(`${dir}/src/caf`), Buffer.from([0xe9]), Buffer.from(".txt")]), "x");
  await assert.rejects(createSourceArchive(dir, { outPath: out, appRoot: "apps/web" }), (e) =>
    isMicroshipError(e) && e.kind === "user" && e.message.includes("`apps/web/src/caf\\xe9.txt`") && /not valid UTF-8/.test(e.message));
});

test("a name with control characters or a backtick is shown escaped in messages", async (t) => {
  const { dir, out } = tree(t);
  const evil = "x\n## Injected`heading";
  writeFileSync(join(dir, "ok.js"), "1");
  execFifo(join(dir, evil));
  await assert.rejects(createSourceArchive(dir, { outPath: out }), (e) =>
    isMicroshipError(e) && e.kind === "user" && e.message.includes("`x\\x0a## Injected\\x60heading`") && !e.message.includes("\n"));
});

/** A FIFO is refused by name, so its name shows in the message. */
const execFifo = (path: string) => execFileSync("mkfifo", [path]);

test("a .dockerignore that leaves nothing is a user error naming it", async (t) => {
  const { dir, out } = tree(t);
  writeFileSync(join(dir, ".dockerignore"), "*\n");
  writeFileSync(join(dir, "index.js"), "1");
  await assert.rejects(createSourceArchive(dir, { outPath: out, appRoot: "apps/web", dockerfile: "FROM x\n" }), (e) =>
    isMicroshipError(e) && e.kind === "user" && e.location?.file === "apps/web/.dockerignore" && /leaves nothing/.test(e.message));
});

test("a .dockerignore that keeps something still archives", async (t) => {
  const { dir, out } = tree(t);
  writeFileSync(join(dir, ".dockerignore"), "*\n!index.js\n");
  writeFileSync(join(dir, "index.js"), "1");
  const a = await createSourceArchive(dir, { outPath: out, dockerfile: "FROM x\n" });
  assert.equal(a.fileCount, 2);
});

test("through the running app: a pushed file name that is not UTF-8, and a .dockerignore that leaves nothing, fail the check as the repository's fault, naming the file", async (t) => {
  const { h } = await startRepoHarness();
  t.after(() => h.stop());
  // The fake's commit helper takes names as strings; a Latin-1 name needs git's plumbing.
  const gitDir = h.fake.repos.path(OWNER, REPO);
  const git = (args: string[], input?: string | Buffer) => execFileSync("git", ["--git-dir", gitDir, ...args], { input }).toString().trim();
  const blob = (text: string) => git(["hash-object", "-w", "--stdin"], text);
  const src = git(["mktree", "-z"], Buffer.concat([Buffer.from(`100644 blob ${blob("x")}\tcaf`), Buffer.from([0xe9]), Buffer.from(".txt\0")]));
  const root = git(["mktree"], [
    `100644 blob ${blob(JSON.stringify({ name: "app", scripts: { start: "node index.js" } }))}\tpackage.json`,
    `100644 blob ${blob("console.log(1)\n")}\tindex.js`,
    `040000 tree ${src}\tsrc`,
  ].join("\n") + "\n");
  const env = { ...process.env, GIT_AUTHOR_NAME: "m", GIT_AUTHOR_EMAIL: "m@example.com", GIT_COMMITTER_NAME: "m", GIT_COMMITTER_EMAIL: "m@example.com" };
  const sha = execFileSync("git", ["--git-dir", gitDir, "commit-tree", root, "-m", "latin-1 name"], { env }).toString().trim();
  git(["update-ref", "refs/heads/latin1", sha]);
  const run = await sendAndWait(h, sha, "latin1");
  assert.equal(run.conclusion, "failure", run.everything.slice(0, 400));
  assert.ok(run.everything.includes("src/caf\\\\xe9.txt") || run.everything.includes("src/caf\\xe9.txt"), run.everything.slice(0, 600));

  const empty = await pushAndWait(h, "ignore-all", { ".dockerignore": "*\n", "package.json": JSON.stringify({ scripts: { start: "node index.js" } }), "index.js": "1" });
  assert.equal(empty.conclusion, "failure", empty.everything.slice(0, 400));
  assert.match(empty.everything, /`\.dockerignore` leaves nothing in the build context/);
});
