import { test } from "node:test";
import assert from "node:assert/strict";
import { nextStandaloneConfig, setsStandaloneOutput, NEXT_CONFIG_SCAN_BYTES } from "../../../src/detect/providers/node/next-standalone.ts";
import { repoWith } from "../../helpers/detect-context.ts";

test("output: standalone is seen in the shapes next.config files are written in", () => {
  const yes = [
    `const nextConfig = { output: "standalone" };\nexport default nextConfig;`,
    `module.exports = {\n  reactStrictMode: true,\n  output: 'standalone',\n};`,
    `import type { NextConfig } from "next";\nconst nextConfig: NextConfig = {\n  output:"standalone",\n};\nexport default nextConfig;`,
    `export default { "output": "standalone" }`,
    "export default { output: `standalone` }",
    `// output: "export"\nmodule.exports = { output: "standalone" } // the image only needs the traced server`,
  ];
  for (const text of yes) assert.equal(setsStandaloneOutput(text), true, text);
});

test("comments, strings and other keys don't count", () => {
  const no = [
    `// output: "standalone",\nmodule.exports = {};`,
    `/* output: "standalone" */ module.exports = {};`,
    `/*\n * output: "standalone"\n */\nexport default {};`,
    `const doc = 'set output: "standalone" to ship less';\nexport default {};`,
    `const doc = "x \\" output: 'standalone' \\" y";\nexport default {};`,
    `export default { output: "export" };`,
    `export default { distOutput: "standalone" };`,
    `export default { output: process.env.STANDALONE ? "standalone" : undefined };`,
    `export default { output: "standalone-ish" };`,
    `export default {}; // unterminated "string`,
    `export default { output: "standalone`,
  ];
  for (const text of no) assert.equal(setsStandaloneOutput(text), false, text);
});

test("only the config file Next itself reads counts, and only when next is a dependency", async () => {
  const pkg = { dependencies: { next: "16.0.10" } };
  const both = repoWith({ "next.config.js": "module.exports = {};", "next.config.mjs": `export default { output: "standalone" };` });
  const mjs = repoWith({ "next.config.mjs": `export default { output: "standalone" };` });
  try {
    assert.equal(await nextStandaloneConfig(both.ctx, pkg), null);
    assert.equal(await nextStandaloneConfig(mjs.ctx, pkg), "next.config.mjs");
    assert.equal(await nextStandaloneConfig(mjs.ctx, { dependencies: { express: "5" } }), null);
  } finally {
    both.cleanup();
    mjs.cleanup();
  }
});

test(`past the first ${NEXT_CONFIG_SCAN_BYTES} bytes nothing is looked at`, async () => {
  const padding = "// padding\n".repeat(Math.ceil(NEXT_CONFIG_SCAN_BYTES / 11));
  const { ctx, cleanup } = repoWith({ "next.config.js": `${padding}module.exports = { output: "standalone" };` });
  try {
    assert.equal(await nextStandaloneConfig(ctx, { dependencies: { next: "16" } }), null);
  } finally {
    cleanup();
  }
});

test("a next.config that is a symlink out of the repository is refused, not read", async () => {
  const { ctx, cleanup } = repoWith({}, { symlinks: { "next.config.js": "../outside/next.config.js" }, outside: { "next.config.js": `module.exports = { output: "standalone" };` } });
  try {
    await assert.rejects(nextStandaloneConfig(ctx, { dependencies: { next: "16" } }), /leads outside the repository/);
  } finally {
    cleanup();
  }
});
