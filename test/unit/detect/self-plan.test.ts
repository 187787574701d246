import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * `microship plan` on microship's own repository, through the real CLI: as it is (its Dockerfile
 * wins), without that Dockerfile (a Node 24 app whose `npm start` runs `node`, which the npm
 * `node` devDependency also ships: the image's node runs it, so devDependencies are pruned), and
 * without its start script too (a clear refusal, not a guess).
 */
const ROOT = new URL("../../../", import.meta.url).pathname;
const CLI = join(ROOT, "bin/microship.js");
const tmp = mkdtempSync(join(tmpdir(), "ms-self-plan-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The tracked files as they are in the work tree (no node_modules, no local data). */
function copyOfRepo(name: string): string {
  const dir = join(tmp, name);
  for (const f of execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      copyFileSync(join(ROOT, f), join(dir, f));
    } catch {
      // deleted in the work tree but not yet from the index
    }
  }
  return dir;
}

function plan(dir: string): { status: number | null; json: any } {
  const r = spawnSync(process.execPath, [CLI, "plan", dir, "--json"], { encoding: "utf8" });
  return { status: r.status, json: JSON.parse(r.stdout) };
}

test("microship plan on this repository uses its own Dockerfile as it is", () => {
  const { status, json } = plan(copyOfRepo("as-is"));
  assert.equal(status, 0);
  assert.equal(json.runtime, "dockerfile");
  assert.equal(json.dockerfilePath, "Dockerfile");
  assert.match(json.dockerfile, /CMD \["node", "src\/main\.ts"\]/);
});

test("without its Dockerfile it is a Node 24 npm app started by npm start, pruned after the install", () => {
  const dir = copyOfRepo("no-dockerfile");
  rmSync(join(dir, "Dockerfile"));
  const { status, json } = plan(dir);
  assert.equal(status, 0, JSON.stringify(json));
  assert.equal(json.runtime, "nodejs24");
  assert.deepEqual(json.version, { value: "24", source: "engines.node in package.json" });
  assert.equal(json.packageManager.name, "npm");
  assert.equal(json.installCommand, "npm ci --include=dev");
  assert.equal(json.startCommand, "npm start");
  // `node` is the image's: the npm `node` devDependency must not keep every devDependency in the image.
  assert.deepEqual(json.messages.filter((m: { level: string }) => m.level === "warning"), []);
  assert.match(json.dockerfile, /^RUN npm prune --omit=dev$/m);
});

test("without its Dockerfile and start script it is refused, saying what was looked for and how to fix it", () => {
  const dir = copyOfRepo("no-start");
  rmSync(join(dir, "Dockerfile"));
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  delete pkg.scripts.start;
  delete pkg.scripts.prestart;
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
  const { status, json } = plan(dir);
  assert.equal(status, 2);
  assert.equal(json.error.kind, "user");
  assert.equal(json.error.title, "No start command");
  assert.match(json.error.message, /scripts\.start/);
  assert.match(json.error.hint, /add a `start` script to package\.json, or set `start:` in \.github\/microship\.yml/);
});
