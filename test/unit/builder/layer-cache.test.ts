import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { leaseLayerCache } from "../../../src/builder/microvm/layer-cache.ts";

function setup(ctx: TestContext) {
  const root = mkdtempSync(join(tmpdir(), "ms-layer-cache-"));
  ctx.after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const lease = (scope: string, noCache = false) => leaseLayerCache({ dir: join(root, "cache"), scope, noCache, scratch: join(root, `scratch-${++n}.ext4`), sizeMiB: 16 });
  return { root, lease };
}

test("a scope's disk is kept only when asked, and then reused by the next build of that scope", async (ctx) => {
  const t = setup(ctx);
  const a = await t.lease("o/r");
  assert.equal(a.use, "empty");
  await a.release();
  const b = await t.lease("o/r");
  assert.equal(b.use, "empty", "a build that wasn't kept leaves nothing");
  await b.keep();
  await b.release();
  const c = await t.lease("o/r");
  assert.equal(c.use, "reused");
  await c.release();
  assert.equal((await t.lease("o/r/pr-7")).use, "empty", "another scope never sees it");
});

test("while one build holds a scope's disk, another of that scope starts empty instead of waiting", async (ctx) => {
  const t = setup(ctx);
  const a = await t.lease("o/r");
  await a.keep();
  const b = await t.lease("o/r");
  assert.equal(b.use, "busy");
  await b.keep();
  await a.release();
  assert.equal((await t.lease("o/r")).use, "reused");
});

test("--no-cache drops the disk; a lock left by a dead process is taken over", async (ctx) => {
  const t = setup(ctx);
  const a = await t.lease("o/r");
  await a.keep();
  await a.release();
  const b = await t.lease("o/r", true);
  assert.equal(b.use, "reset");
  await b.keep();
  await b.release();
  const dir = join(t.root, "cache");
  const disk = readdirSync(dir).find((f) => f.endsWith(".ext4"))!;
  assert.ok(!readdirSync(dir).some((f) => f.endsWith(".lock")), "released");
  // A crashed process's lock stays behind, naming a pid that no longer exists.
  const stale = join(dir, disk.replace(/\.ext4$/, ".lock"));
  mkdirSync(stale);
  writeFileSync(join(stale, "pid"), "2147483646");
  assert.equal((await t.lease("o/r")).use, "reused");
});

test("a disk past 70% of its size starts over before a build runs out of space in it", async (ctx) => {
  const t = setup(ctx);
  const dir = join(t.root, "cache");
  mkdirSync(dir, { recursive: true });
  const disk = join(dir, `${createHash("sha256").update("o/r").digest("hex").slice(0, 24)}.ext4`);
  writeFileSync(disk, Buffer.alloc(12 * 1024 * 1024, 1));
  const a = await t.lease("o/r");
  assert.equal(a.use, "full");
  await a.release();
});

test("a scope unused for a week gives its disk back", async (ctx) => {
  const t = setup(ctx);
  const a = await t.lease("o/r/pr-1");
  await a.keep();
  await a.release();
  const dir = join(t.root, "cache");
  const disk = join(dir, readdirSync(dir).find((f) => f.endsWith(".ext4"))!);
  const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
  utimesSync(disk, eightDaysAgo, eightDaysAgo);
  await (await t.lease("o/r")).release();
  assert.ok(!existsSync(disk), "the old PR's disk is gone");
});
