import { test } from "node:test";
import assert from "node:assert/strict";
import { devOnlyBinaries } from "../../../src/detect/providers/node/dev-binaries.ts";
import { planApps } from "../../../src/detect/provider-list.ts";
import { repoWith } from "../../helpers/detect-context.ts";

const nestPkg = (scripts: Record<string, string>, where: "dependencies" | "devDependencies" = "devDependencies") => ({
  name: "api",
  scripts,
  dependencies: { "@nestjs/core": "^11.0.1", ...(where === "dependencies" ? { "@nestjs/cli": "^11.0.0" } : {}) },
  devDependencies: { typescript: "^5.7.3", "cross-env": "^7.0.3", "ts-node": "^10.9.2", ...(where === "devDependencies" ? { "@nestjs/cli": "^11.0.0" } : {}) },
});

async function devBins(pkg: Record<string, any>, command: string, lock?: Record<string, any>): Promise<string[]> {
  const files: Record<string, string> = { "package.json": JSON.stringify(pkg) };
  if (lock) files["package-lock.json"] = JSON.stringify(lock);
  const { ctx, cleanup } = repoWith(files);
  try {
    return (await devOnlyBinaries(ctx, pkg, command, lock ? "package-lock.json" : null)).map((d) => `${d.bin}<${d.from}`);
  } finally {
    cleanup();
  }
}

test("the binaries a start command reaches through scripts, pre-scripts and wrappers are found, when only a devDependency provides them", async () => {
  const cases: [Record<string, string>, string, string[]][] = [
    [{ start: "nest start" }, "npm start", ["nest<@nestjs/cli"]],
    [{ start: "cross-env NODE_ENV=production nest start" }, "npm start", ["cross-env<cross-env", "nest<@nestjs/cli"]],
    [{ start: "node dist/main", prestart: "npm run build", build: "tsc -p tsconfig.build.json" }, "npm start", ["tsc<typescript"]],
    [{ serve: "npx ts-node src/main.ts" }, "npm run serve", ["ts-node<ts-node"]],
    [{ start: "PORT=$PORT node dist/main.js && echo done" }, "npm start", []],
    [{ "start:prod": "node dist/main", start: "nest start" }, "npm run start:prod", []],
    [{}, "nest start", ["nest<@nestjs/cli"]],
  ];
  for (const [scripts, command, expected] of cases) assert.deepEqual(await devBins(nestPkg(scripts), command, undefined), expected, `${command} with ${JSON.stringify(scripts)}`);
});

test("a binary a production dependency provides is fine, whether the lockfile or package.json says so", async () => {
  assert.deepEqual(await devBins(nestPkg({ start: "nest start" }, "dependencies"), "npm start"), []);
  const lock = (dev: boolean) => ({
    lockfileVersion: 3,
    packages: {
      "": {},
      "node_modules/@nestjs/cli": { version: "11.0.0", dev, bin: { nest: "bin/nest.js" } },
      // A nested copy is not what node_modules/.bin links.
      "node_modules/@nestjs/cli/node_modules/other": { version: "1.0.0", dev: true, bin: { other: "x.js" } },
    },
  });
  assert.deepEqual(await devBins(nestPkg({ start: "nest start" }), "npm start", lock(true)), ["nest<@nestjs/cli"]);
  // The lockfile knows better than the names: here the CLI is needed in production.
  assert.deepEqual(await devBins(nestPkg({ start: "nest start" }), "npm start", lock(false)), []);
});

test("scripts that call each other in a loop, or without end, are followed a bounded number of times", async () => {
  const scripts: Record<string, string> = { start: "npm run a", a: "npm run b", b: "npm run a && nest start" };
  assert.deepEqual(await devBins(nestPkg(scripts), "npm start"), ["nest<@nestjs/cli"]);
  const deep: Record<string, string> = { start: "npm run s1" };
  for (let i = 1; i < 50; i++) deep[`s${i}`] = `npm run s${i + 1}`;
  deep.s50 = "nest start";
  // Too deep to follow: nothing is claimed about what it runs.
  assert.deepEqual(await devBins(nestPkg(deep), "npm start"), []);
});

test("the plan keeps devDependencies and says why when the start needs one, and prunes when it doesn't", async () => {
  const plan = async (scripts: Record<string, string>) => {
    const { dir, cleanup } = repoWith({ "package.json": JSON.stringify(nestPkg(scripts)), "package-lock.json": JSON.stringify({ lockfileVersion: 3, packages: { "": {} } }) });
    try {
      const [outcome] = await planApps(dir, null);
      assert.ok(outcome?.ok);
      return outcome.plan;
    } finally {
      cleanup();
    }
  };
  const kept = await plan({ build: "nest build", start: "nest start" });
  assert.doesNotMatch(kept.dockerfile, /npm prune/);
  assert.ok(kept.messages.some((m) => m.level === "warning" && /runs `nest` \(from @nestjs\/cli\), which only devDependencies provide/.test(m.text)));
  const pruned = await plan({ build: "nest build", start: "nest start", "start:prod": "node dist/main" });
  assert.equal(pruned.startCommand, "npm run start:prod");
  assert.match(pruned.dockerfile, /RUN npm run build\nRUN npm prune --omit=dev\n/);
  assert.ok(!pruned.messages.some((m) => m.level === "warning"));
});

test("node itself is the image's, even when a devDependency (the npm `node` package) also provides it", async () => {
  const pkg = { name: "svc", scripts: { start: "node src/main.ts" }, devDependencies: { node: "24.11.0", typescript: "^5.7.3" } };
  const lock = { lockfileVersion: 3, packages: { "": {}, "node_modules/node": { dev: true, bin: { node: "bin/node" } }, "node_modules/typescript": { dev: true, bin: { tsc: "bin/tsc" } } } };
  assert.deepEqual(await devBins(pkg, "npm start", lock), []);
  assert.deepEqual(await devBins(pkg, "npm start"), []);
  // What the same app's build-time binary still gets: the check still works for other names.
  assert.deepEqual(await devBins({ ...pkg, scripts: { start: "tsc && node dist/main.js" } }, "npm start", lock), ["tsc<typescript"]);
});
