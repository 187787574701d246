import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { safeExists, safeReadFile } from "../../src/source/safe-read.ts";
import { loadRepoConfigFromDir } from "../../src/detect/load-repo-config.ts";
import { isMicroshipError } from "../../src/core/errors.ts";
import { hostDir, pushAndWait, startRepoHarness } from "./repo-harness.ts";

/**
 * Hole 3: the config and .dockerignore reads followed links out of the checkout. A config linked
 * to a host file put that file in a public check run; linked to /dev/zero, it read gigabytes.
 * Every read of repository content now goes through the safe reader.
 */

const NODE_APP = { "package.json": JSON.stringify({ name: "app", scripts: { start: "node index.js" } }), "index.js": "console.log(1)\n" };
const MARKER = "HOST-ONLY-CONTENT-51f0c2";

test("a config or .dockerignore linked to a host file, /dev/zero or /proc: a user error naming the file, and nothing of the host in the check run", async (t) => {
  const host = hostDir(t);
  // A valid config: were it read, its start command would show in the check run.
  writeFileSync(join(host, "secret.yml"), `start: echo ${MARKER}\n`);
  const { h, builder } = await startRepoHarness();
  t.after(() => h.stop());
  const ladder = (to: string) => ({ d: { symlink: "." }, u1: { symlink: "d/.." }, ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`u${i + 2}`, { symlink: `u${i + 1}/..` }])), ".github/microship.yml": { symlink: `../u31${to}` } });
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["config to a host file", { ".github/microship.yml": { symlink: join(host, "secret.yml") } }, ".github/microship.yml"],
    ["config up a ladder to a host file", ladder(join(host, "secret.yml")), ".github/microship.yml"],
    ["config to /dev/zero", { ".github/microship.yml": { symlink: "/dev/zero" } }, ".github/microship.yml"],
    ["config to /proc/self/environ", { ".github/microship.yml": { symlink: "/proc/self/environ" } }, ".github/microship.yml"],
    ["config to a file inside the repo", { ".github/real.yml": "runtime: node\n", ".github/microship.yml": { symlink: "real.yml" } }, ".github/microship.yml"],
    [".dockerignore to a host file", { ".dockerignore": { symlink: join(host, "secret.yml") } }, ".dockerignore"],
  ];
  for (const [name, links, file] of cases) {
    const run = await pushAndWait(h, `attack-${cases.findIndex((c) => c[0] === name)}`, { ...NODE_APP, ...(links as Record<string, { symlink: string }>) }, 20_000);
    assert.ok(!run.everything.includes(MARKER), `${name}: the host file's content reached the check run`);
    assert.ok(!run.everything.includes("PATH="), `${name}: an environment reached the check run`);
    assert.equal(run.conclusion, "failure", `${name}: ${run.everything.slice(0, 300)}`);
    assert.ok(run.everything.includes(`\`${file}\``), `${name}: the message names ${file}\n${run.everything.slice(0, 600)}`);
  }
  assert.equal(builder.inputs.length, 0, "nothing reached the builder");
});

function dir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), "ms-sec-read-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  mkdirSync(join(d, ".github"));
  return d;
}

const userError = (re: RegExp) => (e: unknown) => isMicroshipError(e) && e.kind === "user" && re.test(e.message);

test("a FIFO and a socket are refused without being opened for reading; a link to /dev/zero leads outside", async (t) => {
  const d = dir(t);
  execFileSync("mkfifo", [join(d, ".github", "microship.yml")]);
  const t0 = performance.now();
  // A FIFO opened for reading blocks until a writer comes: the old reader hung here for good.
  await assert.rejects(safeReadFile(d, ".github/microship.yml", { noLink: true }), userError(/named pipe/));
  assert.ok(performance.now() - t0 < 2_000);
  symlinkSync("/dev/zero", join(d, "zero"));
  await assert.rejects(safeReadFile(d, "zero"), userError(/leads outside/));
  const r = await loadRepoConfigFromDir(d);
  assert.ok(r && !r.ok && r.error.kind === "user" && /named pipe/.test(r.error.message), "microship plan reports it too");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(d, "sock"), resolve));
  t.after(() => server.close());
  await assert.rejects(safeReadFile(d, "sock"), userError(/a socket/));
});

test("reading stops at the cap: a 64 MiB config is refused after reading at most the cap and a byte", async (t) => {
  const d = dir(t);
  writeFileSync(join(d, ".github", "microship.yml"), Buffer.alloc(64 * 1024 * 1024, "a"));
  await assert.rejects(safeReadFile(d, ".github/microship.yml", { noLink: true }), userError(/larger than 1 MiB/));
  writeFileSync(join(d, "ok.txt"), "x".repeat(1024 * 1024));
  assert.equal((await safeReadFile(d, "ok.txt"))!.length, 1024 * 1024, "exactly the cap is fine");
});

test("exists() looks at nothing outside: a link out is an error whether or not its target exists; a dangling one does not exist", async (t) => {
  const d = dir(t);
  const host = hostDir(t);
  writeFileSync(join(host, "there"), "1");
  symlinkSync(join(host, "there"), join(d, "to-existing"));
  symlinkSync(join(host, "missing"), join(d, "to-missing"));
  symlinkSync("nothing", join(d, "dangling"));
  await assert.rejects(safeExists(d, "to-existing"), userError(/leads outside/));
  await assert.rejects(safeExists(d, "to-missing"), userError(/leads outside/));
  assert.equal(await safeExists(d, "dangling"), false);
  await assert.rejects(safeExists(d, `../${d.split("/").pop()}/.github`), userError(/leads outside/), "not even back in by the root's own name");
  assert.equal(await safeExists(d, ".github"), true);
});
