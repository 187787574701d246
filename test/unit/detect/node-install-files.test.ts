import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeInstallFiles } from "../../../src/detect/providers/node/node-install-files.ts";
import { nodePackageManager } from "../../../src/detect/providers/node/package-manager.ts";
import { dependencyLayers } from "../../../src/detect/render-template.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { repoWith } from "../../helpers/detect-context.ts";

async function installFiles(files: Record<string, string>, o: Parameters<typeof repoWith>[1] = {}): Promise<string[]> {
  const { ctx, cleanup } = repoWith(files, o);
  try {
    const pkg = JSON.parse(files["package.json"] ?? "{}");
    return await nodeInstallFiles(ctx, pkg, await nodePackageManager(ctx, pkg, []));
  } finally {
    cleanup();
  }
}

const berry = { "package.json": JSON.stringify({ packageManager: "yarn@4.5.3" }), "yarn.lock": "__metadata:\n  version: 8\n" };

test("each manager's config files are copied when present, and only the manager's own", async () => {
  const all = { ".npmrc": "x=1\n", ".yarnrc": "x 1\n", ".pnpmfile.cjs": "module.exports = {};\n", "patches/a+1.0.0.patch": "diff\n" };
  assert.deepEqual(await installFiles({ ...all, "package.json": "{}", "package-lock.json": "{}" }), ["package.json", "package-lock.json", ".npmrc", "patches/"]);
  assert.deepEqual(await installFiles({ ...all, "package.json": "{}", "yarn.lock": "" }), ["package.json", "yarn.lock", ".npmrc", ".yarnrc", "patches/"]);
  assert.deepEqual(await installFiles({ ...all, "package.json": "{}", "pnpm-lock.yaml": "lockfileVersion: '9.0'\n" }), ["package.json", "pnpm-lock.yaml", ".npmrc", ".pnpmfile.cjs", "patches/"]);
});

test("what the .dockerignore leaves out of the build is not named in a COPY, which would fail the build", async () => {
  const files = { "package.json": "{}", "package-lock.json": "{}", ".npmrc": "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", "patches/a+1.0.0.patch": "diff\n" };
  assert.deepEqual(await installFiles({ ...files, ".dockerignore": ".npmrc\npatches\n" }), ["package.json", "package-lock.json"]);
  assert.deepEqual(await installFiles({ ...files, ".dockerignore": "*\n!package*.json\n!patches\n" }), ["package.json", "package-lock.json", "patches/"]);
});

test("a directory where a file is expected, or a file where a directory is, is not copied", async () => {
  assert.deepEqual(await installFiles({ "package.json": "{}", ".npmrc/x": "1\n", patches: "not a directory\n" }), ["package.json"]);
});

test("yarnPath's release is copied; a release outside the app, or linked out of the repository, is refused", async () => {
  const rc = (path: string) => ({ ...berry, ".yarnrc.yml": `nodeLinker: node-modules\nyarnPath: ${path}\n` });
  assert.deepEqual(await installFiles({ ...rc("'.yarn/releases/yarn-4.5.3.cjs'"), ".yarn/releases/yarn-4.5.3.cjs": "//\n" }), ["package.json", "yarn.lock", ".yarnrc.yml", ".yarn/releases/yarn-4.5.3.cjs"]);
  await assert.rejects(installFiles(rc("../../outside/yarn.cjs")), (err) => isMicroshipError(err) && /outside the app's directory/.test(err.message) && err.location?.line === 2);
  await assert.rejects(installFiles(rc("/usr/local/bin/yarn")), (err) => isMicroshipError(err) && /is absolute/.test(err.message));
  await assert.rejects(
    installFiles(rc(".yarn/releases/yarn.cjs"), { symlinks: { ".yarn/releases/yarn.cjs": "../../../outside/yarn.cjs" }, outside: { "yarn.cjs": "//\n" } }),
    (err) => isMicroshipError(err) && /leads outside the repository/.test(err.message),
  );
});

test("pnpm's patchedDependencies are copied where package.json names them, and may not leave the app", async () => {
  const pkg = (path: string) => JSON.stringify({ pnpm: { patchedDependencies: { "ms@2.1.3": path } } });
  assert.deepEqual(await installFiles({ "package.json": pkg("fixes/ms.patch"), "pnpm-lock.yaml": "", "fixes/ms.patch": "diff\n" }), ["package.json", "pnpm-lock.yaml", "fixes/ms.patch"]);
  await assert.rejects(installFiles({ "package.json": pkg("../ms.patch"), "pnpm-lock.yaml": "" }), (err) => isMicroshipError(err) && err.kind === "user");
});

test("dependency files keep their place in the tree; a directory is copied whole", () => {
  assert.equal(
    dependencyLayers(["package.json", "yarn.lock", ".yarn/releases/yarn.cjs", ".yarn/plugins/", "requirements/base.txt", "requirements/prod.txt", "constraints.txt"], "/cache", "install"),
    [
      "COPY package.json yarn.lock constraints.txt ./",
      "COPY .yarn/releases/yarn.cjs ./.yarn/releases/",
      "COPY .yarn/plugins/ ./.yarn/plugins/",
      "COPY requirements/base.txt requirements/prod.txt ./requirements/",
      "RUN --mount=type=cache,target=/cache install",
    ].join("\n"),
  );
  assert.equal(dependencyLayers([], "/cache", null), "");
});
