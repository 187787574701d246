import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppDiskCollector } from "../../../src/deploy/microvm/app-disk-gc.ts";

const hex = (b: string) => b.repeat(32);
const digest = (b: string) => `sha256:${hex(b)}`;

function disks(names: string[]) {
  const root = mkdtempSync(join(tmpdir(), "ms-disk-gc-"));
  const dir = join(root, "images");
  for (const n of names) {
    mkdirSync(join(dir, n), { recursive: true });
    writeFileSync(join(dir, n, "root.ext4"), "disk");
  }
  return { root, dir, done: () => rmSync(root, { recursive: true, force: true }) };
}

test("disks no record uses go; a record's disk and a held one (a deploy making or booting it) stay until released", async () => {
  const t = disks([hex("aa"), hex("bb"), hex("cc"), `${hex("dd")}.lock`, `${hex("ee")}.tmp-1-abcd`, "notes"]);
  const gc = new AppDiskCollector(t.dir);
  const release = gc.hold(digest("bb"));
  assert.equal(await gc.collect(() => [digest("aa")]), 1);
  assert.deepEqual(readdirSync(t.dir).sort(), [hex("aa"), hex("bb"), `${hex("dd")}.lock`, `${hex("ee")}.tmp-1-abcd`, "notes"].sort(), "locks, temp dirs and other names are not touched");
  const again = gc.hold(digest("bb"));
  release();
  assert.equal(await gc.collect(() => [digest("aa")]), 0, "still held by the second hold");
  again();
  again();
  assert.equal(await gc.collect(() => [digest("aa")]), 1, "a release twice counts once");
  assert.equal(existsSync(join(t.dir, hex("bb"))), false);
  t.done();
});

test("a disk name that is a symlink is unlinked, never followed; a missing dir is nothing to do; concurrent passes are one after the other", async () => {
  const t = disks([hex("aa")]);
  const outside = join(t.root, "precious");
  mkdirSync(outside);
  writeFileSync(join(outside, "keep"), "x");
  symlinkSync(outside, join(t.dir, hex("ff")));
  const gc = new AppDiskCollector(t.dir);
  const [a, b] = await Promise.all([gc.collect(() => []), gc.collect(() => [])]);
  assert.ok(a >= 1 && b >= 1);
  assert.deepEqual(readdirSync(t.dir), []);
  assert.equal(existsSync(join(outside, "keep")), true, "the symlink's target is untouched");
  assert.equal(await new AppDiskCollector(join(t.root, "none")).collect(() => []), 0);
  t.done();
});
