import { test } from "node:test";
import assert from "node:assert/strict";
import { devServerOf, frameworkStart } from "../../../src/detect/providers/node/framework-start.ts";
import { imports } from "../../../src/detect/providers/python/python-ui-apps.ts";
import { repoWith } from "../../helpers/detect-context.ts";

test("dev servers are told from production starts by their words", () => {
  const dev: [string, string][] = [
    ["astro dev", "astro dev"], ["react-scripts start", "react-scripts start"], ["vite", "vite"], ["vite --host", "vite"],
    ["vite dev", "vite dev"], ["vue-cli-service serve", "vue-cli-service serve"], ["ng serve", "ng serve"], ["npx nuxt dev", "nuxt dev"],
    ["NODE_OPTIONS=--x next dev", "next dev"], ["npm run gen && vite", "vite"],
  ];
  for (const [script, found] of dev) assert.equal(devServerOf(script), found, script);
  for (const script of ["node server.js", "vite preview", "vite build", "next start", "astro preview", "remix-serve build/index.js", "nuxt start", "", "   "]) {
    assert.equal(devServerOf(script), null, script);
  }
});

test("a framework needs all of its packages; Remix picks its build path by the presence of a vite config", async () => {
  const cases: [Record<string, string>, Record<string, any>, string | null][] = [
    [{}, { devDependencies: { "@sveltejs/kit": "2", "@sveltejs/adapter-node": "5" } }, "node build"],
    [{}, { devDependencies: { "@sveltejs/kit": "2", "@sveltejs/adapter-auto": "3" } }, null],
    [{}, { dependencies: { astro: "4" } }, null],
    [{}, { dependencies: { nitropack: "2" } }, "node .output/server/index.mjs"],
    [{ "vite.config.ts": "" }, { dependencies: { "@remix-run/serve": "2" } }, "npx --no remix-serve ./build/server/index.js"],
    [{}, { dependencies: { "@remix-run/serve": "2" } }, "npx --no remix-serve ./build/index.js"],
    [{}, { dependencies: { toString: "1", constructor: "1" } }, null],
  ];
  for (const [files, pkg, command] of cases) {
    const repo = repoWith(files);
    try {
      assert.equal((await frameworkStart(repo.ctx, pkg, "npx --no"))?.command ?? null, command, JSON.stringify(pkg));
    } finally {
      repo.cleanup();
    }
  }
});

test("a Python script imports a library by `import`, `import a, b`, `from lib import` or a submodule; a mention doesn't count", () => {
  for (const text of ["import streamlit as st", "import os, streamlit", "from streamlit import session_state", "  import streamlit.components.v1 as c", "from streamlit.web import cli"]) {
    assert.equal(imports(text, "streamlit"), true, text);
  }
  for (const text of ["# import streamlit", "import streamlit_extras", "print('import streamlit')", "from mystreamlit import x"]) {
    assert.equal(imports(text, "streamlit"), false, text);
  }
});
