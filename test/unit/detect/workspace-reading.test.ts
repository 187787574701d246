import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DetectContext } from "../../../src/detect/context.ts";
import type { ResolvedAppConfig } from "../../../src/core/repo-config.ts";
import { findWorkspace } from "../../../src/detect/providers/node/workspace-root.ts";
import { workspaceMembers, type WorkspaceMember } from "../../../src/detect/providers/node/workspace-members.ts";
import { dependencyClosure } from "../../../src/detect/providers/node/workspace-commands.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { repoWith } from "../../helpers/detect-context.ts";

/**
 * Reading a workspace from a hostile repository: its patterns, and the tree they are matched
 * against, are the repository's. Every limit here is attacked, and must end in a user error or a
 * bounded answer, never a read outside the checkout or a hang.
 */
const PNPM = (patterns: string[]) => `packages:\n${patterns.map((p) => `  - "${p}"`).join("\n")}\n`;
const pkg = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ name, ...extra });

/**
 * A repository for the trees of thousands of directories. On tmpfs when there is one: what is
 * tested is the walk's bounds, and making 10,000 directories on a slow disk takes longer than
 * all of this file's other tests.
 */
function bigRepo(files: Record<string, string>): { ctx: DetectContext; dir: string; cleanup(): void } {
  const base = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "ms-ws-"));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(base, rel, ".."), { recursive: true });
    writeFileSync(join(base, rel), text);
  }
  return { ctx: new DetectContext(base, { name: null } as ResolvedAppConfig, null), dir: base, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

async function userErrorOf(p: Promise<unknown>): Promise<{ message: string; title?: string; hint?: string }> {
  const err = await p.then(() => null, (e: unknown) => e);
  assert.ok(isMicroshipError(err) && err.kind === "user", `expected a user error, got ${String(err)}`);
  return err;
}

test("members are the directories the globs name that hold a package.json; `!` patterns and node_modules are left out", async () => {
  const repo = repoWith({
    "pnpm-workspace.yaml": PNPM(["apps/*", "packages/**", "!packages/internal/**"]),
    "apps/web/package.json": pkg("web"),
    "apps/notes/README.md": "no package.json here",
    "apps/web/src/package.json": pkg("not-a-member: apps/* is one level"),
    "packages/ui/package.json": pkg("ui"),
    "packages/tools/lint/package.json": pkg("lint"),
    "packages/internal/secret/package.json": pkg("secret"),
    "packages/ui/node_modules/dep/package.json": pkg("dep"),
    "packages/.cache/x/package.json": pkg("x"),
  }, { config: { root: "apps/web" } });
  try {
    const ws = await findWorkspace(repo.ctx);
    assert.ok(ws?.app);
    assert.equal(ws.app.dir, "apps/web");
    assert.deepEqual(ws.members.map((m) => m.dir), ["apps/web", "packages/tools/lint", "packages/ui"]);
  } finally {
    repo.cleanup();
  }
});

test("package.json `workspaces` as an array and as { packages }; an app outside the patterns is built alone", async () => {
  for (const workspaces of [["apps/*"], { packages: ["apps/*"], nohoist: ["**"] }]) {
    const repo = repoWith({ "package.json": JSON.stringify({ workspaces }), "apps/api/package.json": pkg("api"), "tools/cli/package.json": pkg("cli") }, { config: { root: "apps/api" } });
    try {
      assert.equal((await findWorkspace(repo.ctx))?.app?.name, "api");
      const alone = repoWith({ "package.json": JSON.stringify({ workspaces }), "tools/cli/package.json": pkg("cli") }, { config: { root: "tools/cli" } });
      try {
        assert.equal(await findWorkspace(alone.ctx), null);
      } finally {
        alone.cleanup();
      }
    } finally {
      repo.cleanup();
    }
  }
});

test("attack: a workspace directory linked out of the checkout is never followed, nor is its package.json read", async () => {
  const repo = repoWith(
    { "pnpm-workspace.yaml": PNPM(["apps/*", "linked/*"]), "apps/web/package.json": pkg("web") },
    { symlinks: { "apps/evil": "../../outside/app", linked: "../outside" }, outside: { "app/package.json": pkg("stolen"), "x/package.json": pkg("stolen2") }, config: { root: "apps/web" } },
  );
  try {
    const ws = await findWorkspace(repo.ctx);
    assert.deepEqual(ws?.members.map((m) => m.dir), ["apps/web"]);
    assert.ok(!JSON.stringify(ws?.members).includes("stolen"));
    assert.deepEqual(ws?.links, ["apps/evil"]);
  } finally {
    repo.cleanup();
  }
});

test("attack: a symlink loop inside the tree under a `**` pattern is not walked", async () => {
  const repo = repoWith({ "package.json": JSON.stringify({ workspaces: ["packages/**"] }), "packages/a/package.json": pkg("a") }, { symlinks: { "packages/a/loop": "..", "packages/self": "." } });
  try {
    const ws = await findWorkspace(repo.ctx);
    assert.equal(ws?.app, null);
    assert.deepEqual(ws?.members.map((m) => m.dir), ["packages/a"]);
    assert.deepEqual(ws?.links.sort(), ["packages/a/loop", "packages/self"]);
  } finally {
    repo.cleanup();
  }
});

test("attack: 10,000 directories under a pattern are bounded; outside every pattern they are never listed", async () => {
  const repo = bigRepo({ "package.json": JSON.stringify({ workspaces: ["apps/*"] }), "apps/web/package.json": pkg("web") });
  try {
    for (let i = 0; i < 10_000; i++) mkdirSync(join(repo.dir, "junk", `d${i}`), { recursive: true });
    const ws = await findWorkspace(repo.ctx);
    assert.deepEqual(ws?.members.map((m) => m.dir), ["apps/web"]);
    const patterns = { include: ["junk/*"], exclude: [], source: "package.json" };
    // 10,000 candidates without a package.json: no member, and within the entry limit.
    assert.deepEqual((await workspaceMembers(repo.ctx, patterns)).members, []);
    const err = await userErrorOf(workspaceMembers(repo.ctx, patterns, { depth: 8, dirs: 4096, entries: 5_000, members: 256 }));
    assert.equal(err.title, "Workspace too large");
    assert.match(err.message, /more than 5000 directory entries/);
    for (let i = 0; i < 300; i++) writeFileSync(join(repo.dir, "junk", `d${i}`, "package.json"), pkg(`p${i}`));
    assert.match((await userErrorOf(workspaceMembers(repo.ctx, patterns))).message, /more than 256 packages/);
  } finally {
    repo.cleanup();
  }
});

test("attack: deep nesting under `**` stops at the depth limit, and a wide tree at the directory limit", async () => {
  const deep = Array.from({ length: 40 }, (_, i) => `n${i}`).join("/");
  const repo = bigRepo({ "package.json": JSON.stringify({ workspaces: ["packages/**"] }), [`packages/${deep}/package.json`]: pkg("deep"), "packages/near/package.json": pkg("near") });
  try {
    const ws = await findWorkspace(repo.ctx);
    assert.deepEqual(ws?.members.map((m) => m.dir), ["packages/near"]);
    for (let i = 0; i < 60; i++) for (let j = 0; j < 80; j++) mkdirSync(join(repo.dir, "packages", `w${i}`, `v${j}`), { recursive: true });
    const err = await userErrorOf(findWorkspace(repo.ctx));
    assert.match(err.message, /more than 4096 directories/);
  } finally {
    repo.cleanup();
  }
});

test("attack: pnpm-workspace.yaml bombs (aliases, nesting, size, pattern count, patterns that climb out) are user errors", async () => {
  const laughs = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(",")}]`);
  laughs.push(`packages: *${String.fromCharCode(97 + 11)}`);
  const cases: [string, RegExp][] = [
    [laughs.join("\n"), /does not parse as YAML/],
    [`packages: ${"[".repeat(100_000)}${"]".repeat(100_000)}`, /does not parse as YAML|not a list of globs/],
    [`packages:\n  - "a/*"\n# ${"x".repeat(300 * 1024)}\n`, /larger than/],
    [PNPM(Array.from({ length: 1000 }, (_, i) => `p${i}/*`)), /1000 patterns, more than 64/],
    [PNPM(["../outside/*"]), /leaves the workspace/],
    [PNPM(["/etc/*"]), /leaves the workspace/],
    [PNPM([`${"*".repeat(300)}`]), /longer than 256/],
    ["packages: { a: 1 }", /not a list of globs/],
  ];
  for (const [yaml, expected] of cases) {
    const repo = repoWith({ "pnpm-workspace.yaml": yaml, "apps/web/package.json": pkg("web") }, { config: { root: "apps/web" } });
    try {
      assert.match((await userErrorOf(findWorkspace(repo.ctx))).message, expected, yaml.slice(0, 60));
    } finally {
      repo.cleanup();
    }
  }
});

test("attack: patterns that repeat or overlap (`**/**/**`, the same glob twice) list each member once, in bounded work", async () => {
  const repo = repoWith({ "pnpm-workspace.yaml": PNPM(["**/**/**", "apps/*", "apps/*", "*/web"]), "apps/web/package.json": pkg("web"), "libs/a/b/package.json": pkg("b") }, { config: { root: "apps/web" } });
  try {
    const ws = await findWorkspace(repo.ctx);
    assert.deepEqual(ws?.members.map((m) => m.dir), ["apps/web", "libs/a/b"]);
  } finally {
    repo.cleanup();
  }
});

test("attack: a dependency cycle between workspace packages ends; the closure lists each once, dependencies first", () => {
  const m = (name: string, deps: string[]): WorkspaceMember => ({ dir: `packages/${name}`, name, pkg: { name, dependencies: Object.fromEntries(deps.map((d) => [d, "workspace:*"])) } });
  const web = m("web", ["ui", "utils"]);
  const members = [web, m("ui", ["utils", "web"]), m("utils", ["ui"]), m("unrelated", ["web"])];
  assert.deepEqual(dependencyClosure(web, members).map((x) => x.name), ["utils", "ui", "web"]);
  // A chain of 256 packages needs no deep recursion.
  const chain = Array.from({ length: 256 }, (_, i) => m(`p${i}`, i < 255 ? [`p${i + 1}`] : []));
  assert.equal(dependencyClosure(chain[0]!, chain).length, 256);
  assert.equal(dependencyClosure(chain[0]!, chain)[0]!.name, "p255");
});
