import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { t as tarList } from "tar";
import { repoWith } from "../../helpers/detect-context.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { resolveBuildContext, checkContextUse } from "../../../src/detect/build-context.ts";
import { composeBuilds, forDevelopment, COMPOSE_MAX_BYTES } from "../../../src/detect/providers/dockerfile/compose-builds.ts";
import { dockerfileSource } from "../../../src/detect/providers/dockerfile/dockerfile-source.ts";
import { nestedDockerfiles, DOCKERFILE_SEARCH } from "../../../src/detect/nested-dockerfiles.ts";
import { DetectContext } from "../../../src/detect/context.ts";
import { planDirectory } from "../../../src/detect/plan-directory.ts";
import { createSourceArchive } from "../../../src/source/archive.ts";
import { releaseCommand } from "../../../src/core/deploy/release-command.ts";

async function userErrorOf(p: Promise<unknown>): Promise<{ message: string; title?: string }> {
  const err = await p.then(() => null, (e: unknown) => e);
  assert.ok(isMicroshipError(err) && err.kind === "user", `expected a user error, got ${String(err)}`);
  return err;
}

test("a build context that climbs out, is absolute, or can't be written safely is refused", async () => {
  const repo = repoWith({ "app/Dockerfile": "FROM x\n", "file.txt": "" });
  try {
    for (const [context, why] of [["..", /outside the repository/], ["app/../..", /outside the repository/], ["/etc", /is absolute/], ["a b", /can't use safely/], ["$(id)", /can't use safely/], ["missing", /does not exist/], ["file.txt", /not a directory/]] as const) {
      const err = await userErrorOf(resolveBuildContext(repo.dir, context, ".github/microship.yml"));
      assert.match(err.message, why, context);
      assert.equal(err.title, "Bad build context");
    }
    assert.equal(await resolveBuildContext(repo.dir, ".", "x"), ".");
    assert.equal(await resolveBuildContext(repo.dir, "./app/", "x"), "app");
  } finally {
    repo.cleanup();
  }
});

test("a build context reached through a symlink: followed inside the tree, refused when it leaves or loops", async () => {
  const repo = repoWith({ "app/Dockerfile": "FROM x\n" }, {
    symlinks: { out: "../outside", deep: "app/../../outside", here: "app", loop: "loop", abs: "/etc" },
    outside: { "secret.txt": "corpus-secret-value" },
  });
  try {
    for (const context of ["out", "deep", "abs", "out/x"]) assert.match((await userErrorOf(resolveBuildContext(repo.dir, context, "x"))).message, /leads outside the repository through a symlink|outside/, context);
    assert.match((await userErrorOf(resolveBuildContext(repo.dir, "loop", "x"))).message, /symlink loop/);
    assert.equal(await resolveBuildContext(repo.dir, "here", "x"), "app", "a link inside the tree resolves to its real directory");
  } finally {
    repo.cleanup();
  }
});

test("a compose alias bomb is passed over, not expanded", async () => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(",")}]`);
  lines.push("services:", "  web:", "    build:", "      context: .", "      dockerfile: backend/Dockerfile", "    labels: *l");
  const repo = repoWith({ "docker-compose.yml": lines.join("\n") + "\n", "backend/Dockerfile": "FROM x\n" });
  try {
    assert.deepEqual(await composeBuilds(repo.ctx), []);
    assert.equal(await dockerfileSource(repo.ctx), null);
  } finally {
    repo.cleanup();
  }
});

test("a compose file over the cap is a user error naming it, never parsed", async () => {
  const big = "services:\n  web:\n    build: .\n" + `# ${"x".repeat(COMPOSE_MAX_BYTES)}\n`;
  const repo = repoWith({ "compose.yaml": big });
  try {
    const err = await userErrorOf(composeBuilds(repo.ctx));
    assert.match(err.message, /compose\.yaml/);
  } finally {
    repo.cleanup();
  }
});

test("compose builds: remote, inline and absolute ones are passed over; paths resolve from the compose file and the context", async () => {
  const yaml = [
    "services:",
    "  remote: { build: 'https://github.com/o/r.git#main' }",
    "  git: { build: { context: 'git@github.com:o/r.git' } }",
    "  inline: { build: { context: ., dockerfile_inline: 'FROM x' } }",
    "  abs: { build: { context: /srv } }",
    "  odd name!: { build: . }",
    "  api: { build: { context: .., dockerfile: api/Dockerfile } }",
    "  worker: { build: ./worker }",
  ].join("\n");
  const repo = repoWith({ "svc/compose.yml": yaml, "svc/x": "" }, { config: { root: "svc" } });
  try {
    assert.deepEqual(await composeBuilds(repo.ctx), [
      { service: "api", file: "svc/compose.yml", context: ".", dockerfile: "api/Dockerfile" },
      { service: "worker", file: "svc/compose.yml", context: "svc/worker", dockerfile: "svc/worker/Dockerfile" },
    ]);
  } finally {
    repo.cleanup();
  }
});

test("a compose file that builds the app root's own Dockerfile from above gives its context", async () => {
  const repo = repoWith({ "backend/Dockerfile": "FROM x\nCOPY backend/ .\n", "backend/compose.yaml": "services:\n  web:\n    build: { context: .., dockerfile: backend/Dockerfile }\n" }, { config: { root: "backend" } });
  try {
    assert.deepEqual(await dockerfileSource(repo.ctx), { path: "Dockerfile", source: "a Dockerfile at the app root", context: ".", contextSource: "service `web` of backend/compose.yaml", fromCompose: "service `web` of backend/compose.yaml" });
  } finally {
    repo.cleanup();
  }
});

test("`context:` in the config wins over compose, and is refused for a generated Dockerfile", async () => {
  const repo = repoWith({ "compose.yaml": "services:\n  web:\n    build: { context: ., dockerfile: a/Dockerfile }\n", "a/Dockerfile": "FROM x\n" }, { config: { context: "a" } });
  try {
    const got = await dockerfileSource(repo.ctx);
    assert.equal(got?.context, "a");
    assert.equal(got?.contextSource, "`context` in .github/microship.yml");
    assert.throws(() => checkContextUse(repo.ctx, { runtime: "python312" }), /applies to a Dockerfile of the app's own/);
    assert.doesNotThrow(() => checkContextUse(repo.ctx, { runtime: "dockerfile" }));
  } finally {
    repo.cleanup();
  }
});

// Ten thousand mkdirs take seconds on some disks and a fraction of one in memory.
const FAST_TMP = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

test("the Dockerfile search in a 10,000-directory tree reads a bounded number of directories", async () => {
  const dir = mkdtempSync(join(FAST_TMP, "ms-dockerfiles-"));
  try {
    for (let i = 0; i < 10_000; i++) mkdirSync(join(dir, `d${String(i).padStart(5, "0")}`));
    writeFileSync(join(dir, "d00003", "Dockerfile"), "FROM x\n");
    writeFileSync(join(dir, "d09999", "Dockerfile"), "FROM x\n");
    const found = await nestedDockerfiles(new DetectContext(dir, { name: null }, null));
    assert.deepEqual(found.map((f) => f.path), ["d00003/Dockerfile"], `only what is within the first ${DOCKERFILE_SEARCH.dirs} directories read`);
    assert.equal(found[0]!.config, "root: d00003");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the Dockerfile search stops at its depth, its count, and follows no symlink", async () => {
  const files: Record<string, string> = { "a/b/c/d/Dockerfile": "FROM x\n", "a/b/c/Dockerfile": "FROM x\nCOPY a/b/c/req.txt .\n" };
  for (let i = 0; i < 8; i++) files[`s${i}/Dockerfile`] = "FROM x\n";
  const repo = repoWith(files, { symlinks: { "l0": "../outside" }, outside: { "Dockerfile": "FROM secret\n" } });
  try {
    const found = await nestedDockerfiles(repo.ctx);
    assert.equal(found.length, DOCKERFILE_SEARCH.found);
    assert.ok(found.every((f) => !f.path.startsWith("l0/") && f.path !== "a/b/c/d/Dockerfile"));
    const deep = repoWith({ "a/b/c/Dockerfile": "FROM x\nCOPY a/b/c/req.txt .\n", "a/b/c/d/Dockerfile": "FROM x\n" });
    try {
      assert.deepEqual(await nestedDockerfiles(deep.ctx), [{ path: "a/b/c/Dockerfile", config: "dockerfile: a/b/c/Dockerfile with context: ." }]);
    } finally {
      deep.cleanup();
    }
  } finally {
    repo.cleanup();
  }
});

test("the archive is made from the context, with the Dockerfile from its own path", async () => {
  const repo = repoWith({
    "compose.yaml": "services:\n  web:\n    build: { context: ., dockerfile: backend/Dockerfile }\n",
    "backend/Dockerfile": "FROM python:3.12-slim\nCOPY shared/ shared/\nCOPY backend/ backend/\n",
    "shared/util.py": "X = 1\n",
  });
  try {
    const { outcomes } = await planDirectory(repo.dir);
    const o = outcomes[0]!;
    assert.ok(o.ok);
    assert.equal(o.plan.contextRoot, ".");
    const out = join(repo.dir, "..", "ctx.tar.gz");
    await createSourceArchive(join(repo.dir, o.plan.contextRoot ?? o.plan.root), { outPath: out, dockerfile: o.plan.dockerfile, dockerignore: o.plan.dockerignore, appRoot: o.plan.contextRoot });
    const names: string[] = [];
    let dockerfile = "";
    await tarList({
      file: out,
      onReadEntry: (e: any) => {
        names.push(e.path);
        if (e.path === "Dockerfile") e.on("data", (c: Buffer) => (dockerfile += c.toString()));
      },
    });
    assert.ok(names.includes("shared/util.py") && names.includes("backend/Dockerfile"), names.join(" "));
    assert.equal(dockerfile, "FROM python:3.12-slim\nCOPY shared/ shared/\nCOPY backend/ backend/\n");
  } finally {
    repo.cleanup();
  }
});

test("the release command: deploy.release wins over the plan's", () => {
  assert.equal(releaseCommand({ release: "./migrate.sh" } as any, { release: "python manage.py migrate" }), "./migrate.sh");
  assert.equal(releaseCommand(undefined, { release: "python manage.py migrate" }), "python manage.py migrate");
  assert.equal(releaseCommand({} as any, {}), null);
});

test("a compose build of a development Dockerfile, or of one that isn't there, doesn't take the app from runtime detection", async () => {
  assert.ok(forDevelopment("docker/Dockerfile.dev") && forDevelopment("local.Dockerfile") && forDevelopment("Dockerfile-development"));
  assert.ok(!forDevelopment("backend/Dockerfile") && !forDevelopment("Dockerfile.prod") && !forDevelopment("devtools/Dockerfile"));
  for (const [compose, extra] of [["services:\n  web:\n    build: { context: ., dockerfile: Dockerfile.dev }\n", { "Dockerfile.dev": "FROM x\n" }], ["services:\n  web:\n    build: .\n", {}]] as const) {
    const repo = repoWith({ "docker-compose.yml": compose, "package.json": '{"scripts":{"start":"node server.js"}}', ...extra });
    try {
      const { outcomes } = await planDirectory(repo.dir);
      assert.ok(outcomes[0]!.ok && outcomes[0]!.plan.provider === "node", JSON.stringify(outcomes[0]));
    } finally {
      repo.cleanup();
    }
  }
});
