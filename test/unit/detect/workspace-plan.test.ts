import { test } from "node:test";
import assert from "node:assert/strict";
import { planDirectory, directoryPlanJson } from "../../../src/detect/plan-directory.ts";
import { repoWith } from "../../helpers/detect-context.ts";

/** Workspace plans end to end through `microship plan --json`'s code path, on throwaway repositories. */
async function planOf(files: Record<string, string>, o: Parameters<typeof repoWith>[1] = {}): Promise<Record<string, any>> {
  const repo = repoWith(files, o);
  try {
    return directoryPlanJson(await planDirectory(repo.dir, { today: "2026-12-01" })) as Record<string, any>;
  } finally {
    repo.cleanup();
  }
}

const ROOT = JSON.stringify({ name: "root", private: true, workspaces: ["apps/*", "packages/*"] });
const LOCK = JSON.stringify({ name: "root", lockfileVersion: 3, packages: {} });

test("a workspace root with one app and no start of its own asks for `root:` naming it", async () => {
  const json = await planOf({ "package.json": ROOT, "package-lock.json": LOCK, "apps/web/package.json": JSON.stringify({ name: "web", scripts: { start: "node server.js" } }), "packages/lib/package.json": JSON.stringify({ name: "lib", main: "index.js" }), "packages/lib/index.js": "" });
  assert.equal(json.error?.title, "Workspace root: set root");
  assert.match(json.error.message, /its app is `apps\/web` \(scripts\["start"\]\)\.$/);
  assert.match(json.error.hint, /root: apps\/web/);
  assert.doesNotMatch(json.error.message, /packages\/lib/);
});

test("a dev server is no deployable start: a workspace of dev-only packages gets the usual no-start error", async () => {
  const json = await planOf({ "package.json": ROOT, "package-lock.json": LOCK, "apps/web/package.json": JSON.stringify({ name: "web", scripts: { start: "vite" } }) });
  assert.equal(json.error?.title, "No start command");
});

test("a workspace root with a start of its own is built whole, from every package's manifest", async () => {
  const json = await planOf({ "package.json": JSON.stringify({ ...JSON.parse(ROOT), scripts: { start: "node server.js" } }), "package-lock.json": LOCK, "apps/web/package.json": JSON.stringify({ name: "web", scripts: { start: "node s.js" } }) });
  assert.equal(json.startCommand, "npm start");
  assert.equal(json.installCommand, "npm ci --include=dev");
  assert.deepEqual(json.cacheFiles, ["package.json", "package-lock.json", "apps/web/package.json"]);
  assert.equal(json.contextRoot, undefined);
});

test("a workspace app needs a package name to be selected; the version and manager come from the root only when the app has none", async () => {
  const files = { "package.json": JSON.stringify({ ...JSON.parse(ROOT), engines: { node: "22" } }), "package-lock.json": LOCK, ".github/microship.yml": "root: apps/web\n" };
  const unnamed = await planOf({ ...files, "apps/web/package.json": JSON.stringify({ scripts: { start: "node s.js" } }) });
  assert.equal(unnamed.error?.title, "Workspace app without a name");
  const own = await planOf({ ...files, "apps/web/package.json": JSON.stringify({ name: "web", scripts: { start: "node s.js" } }), "apps/web/.nvmrc": "24\n" });
  assert.deepEqual(own.version, { value: "24", source: "apps/web/.nvmrc" });
  const root = await planOf({ ...files, "apps/web/package.json": JSON.stringify({ name: "web", scripts: { start: "node s.js" } }) });
  assert.deepEqual(root.version, { value: "22", source: "engines.node in package.json" });
  assert.equal(root.contextRoot, ".");
  assert.match(root.dockerfile, /^WORKDIR \/app\/apps\/web$/m);
});

test("attack: a package directory linked out of the checkout is left out and named in a warning; a package path unsafe in COPY is refused", async () => {
  const files = { "package.json": ROOT, "package-lock.json": LOCK, ".github/microship.yml": "root: apps/web\n", "apps/web/package.json": JSON.stringify({ name: "web", scripts: { start: "node s.js" } }) };
  const linked = await planOf(files, { symlinks: { "packages/evil": "../../outside/evil" }, outside: { "evil/package.json": JSON.stringify({ name: "evil" }) } });
  assert.ok(linked.messages.some((m: any) => m.level === "warning" && /never followed as workspace packages: `packages\/evil`/.test(m.text)), JSON.stringify(linked.messages));
  assert.ok(!linked.cacheFiles.some((f: string) => f.includes("evil")));
  const unsafe = await planOf({ ...files, "packages/a b$(x)/package.json": JSON.stringify({ name: "ab" }) });
  assert.equal(unsafe.error?.title, "Unusable path in a dependency file");
});
