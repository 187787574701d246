import { test } from "node:test";
import assert from "node:assert/strict";
import { plainSite, spaBuild } from "../../../src/detect/providers/static/static-site.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { repoWith } from "../../helpers/detect-context.ts";

const vite = { scripts: { dev: "vite", build: "vite build" }, devDependencies: { vite: "6" } };

async function spa(pkg: Record<string, any>, files: Record<string, string> = {}, config = {}) {
  const repo = repoWith({ "package.json": JSON.stringify(pkg), ...files }, { config });
  try {
    return await spaBuild(repo.ctx, pkg);
  } finally {
    repo.cleanup();
  }
}

test("a SPA with a build script and no server is a static site; its start may be a dev or file server", async () => {
  assert.equal((await spa(vite))?.outputDir, "dist");
  assert.equal((await spa({ ...vite, scripts: { ...vite.scripts, start: "vite --host" } }))?.tool, "Vite");
  assert.equal((await spa({ ...vite, scripts: { ...vite.scripts, start: "serve -s dist" } }))?.tool, "Vite");
  assert.equal((await spa({ scripts: { build: "react-scripts build", start: "react-scripts start" }, dependencies: { "react-scripts": "5" } }))?.outputDir, "build");
});

test("any sign of a server of the app's own makes it no static site", async () => {
  const cases: [Record<string, any>, Record<string, string>, Record<string, unknown>][] = [
    [{ ...vite, dependencies: { express: "4" } }, {}, {}],
    [{ ...vite, dependencies: { "@sveltejs/kit": "2" } }, {}, {}],
    [{ ...vite, scripts: { ...vite.scripts, start: "node server.js" } }, {}, {}],
    [{ ...vite, scripts: { ...vite.scripts, "start:prod": "node dist/server.js" } }, {}, {}],
    [vite, { Procfile: "web: node server.js\n" }, {}],
    [vite, { "railway.json": '{"deploy":{"startCommand":"node s.js"}}' }, {}],
    [vite, {}, { start: "node s.js" }],
    [vite, { "requirements.txt": "django\n", "manage.py": "" }, {}],
    [{ ...vite, scripts: { dev: "vite" } }, {}, {}],
    [{ scripts: { build: "tsc" }, devDependencies: { typescript: "5" } }, {}, {}],
  ];
  for (const [pkg, files, config] of cases) assert.equal(await spa(pkg, files, config), null, JSON.stringify([pkg, files, config]));
});

test("Angular's output path: outputPath, its browser folder under the application builder, dist/<project> by default", async () => {
  const angular = (build: Record<string, unknown>) => JSON.stringify({ projects: { lib: { projectType: "library" }, shop: { projectType: "application", architect: { build } } } });
  const pkg = { scripts: { build: "ng build" }, devDependencies: { "@angular/cli": "19" } };
  assert.equal((await spa(pkg, { "angular.json": angular({ builder: "@angular-devkit/build-angular:application", options: { outputPath: "dist/shop" } }) }))?.outputDir, "dist/shop/browser");
  assert.equal((await spa(pkg, { "angular.json": angular({ builder: "@angular-devkit/build-angular:application", options: { outputPath: { base: "out", browser: "" } } }) }))?.outputDir, "out");
  assert.equal((await spa(pkg, { "angular.json": angular({ builder: "@angular-devkit/build-angular:browser", options: { outputPath: "dist/shop" } }) }))?.outputDir, "dist/shop");
  assert.equal((await spa(pkg, { "angular.json": angular({ builder: "@angular-devkit/build-angular:browser" }) }))?.outputDir, "dist/shop");
});

test("attack: an outputPath that leaves the app or can't be written in a COPY line is a user error", async () => {
  const pkg = { scripts: { build: "ng build" }, devDependencies: { "@angular/cli": "19" } };
  for (const outputPath of ["../../etc", "/etc", "dist/$(id)", "dist shop", "dist\n/srv"]) {
    const json = JSON.stringify({ projects: { shop: { projectType: "application", architect: { build: { options: { outputPath } } } } } });
    const err = await spa(pkg, { "angular.json": json }).then(() => null, (e: unknown) => e);
    assert.ok(isMicroshipError(err) && err.kind === "user", `${outputPath}: ${String(err)}`);
  }
});

test("a plain site is index.html with no manifest of any runtime", async () => {
  const check = async (files: Record<string, string>) => {
    const repo = repoWith(files);
    try {
      return await plainSite(repo.ctx);
    } finally {
      repo.cleanup();
    }
  };
  assert.equal(await check({ "index.html": "<p>hi" }), true);
  for (const other of ["package.json", "requirements.txt", "go.mod", "app.py", "Gemfile"]) assert.equal(await check({ "index.html": "", [other]: "{}" }), false, other);
  assert.equal(await check({ "public/index.html": "" }), false);
});
