import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskUse } from "../../../src/http/dashboard/disk-use.ts";

test("disk use: walks without following symlinks, stops at its bound, and measures once per TTL", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "ms-disk-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const outside = await mkdtemp(join(tmpdir(), "ms-disk-outside-"));
  t.after(() => rm(outside, { recursive: true, force: true }));
  await writeFile(join(outside, "big"), Buffer.alloc(1024 * 1024, 1));
  await mkdir(join(root, "cache", "a", "b"), { recursive: true });
  for (let i = 0; i < 10; i++) await writeFile(join(root, "cache", "a", "b", `f${i}`), "x".repeat(5000));
  await symlink(outside, join(root, "cache", "link-out"));
  await symlink(join(outside, "big"), join(root, "cache", "file-out"));

  const use = new DiskUse({ dataDir: root, places: [{ name: "Cache", paths: [join(root, "cache")] }, { name: "Gone", paths: [join(root, "none")] }] });
  const first = (await use.report(5_000))!;
  const [cache, gone] = first.places;
  assert.equal(cache!.files, 10, "the symlinks are not followed, nor counted as files");
  assert.ok(cache!.bytes >= 50_000 && cache!.bytes < 1024 * 1024, `bytes ${cache!.bytes}`);
  assert.equal(cache!.partial, false);
  assert.equal(gone!.missing, true);
  assert.ok(first.totalBytes! > 0 && first.freeBytes! >= 0);

  await writeFile(join(root, "cache", "later"), "y");
  assert.equal((await use.report(5_000))!.measuredAt, first.measuredAt, "within the TTL the last measure is shown, not a new walk");
  assert.equal((await use.report(5_000, first.measuredAt + 10 * 60_000))!.measuredAt, first.measuredAt, "a stale measure is shown while the new one runs");
  // Then the new one (the test's timeout bounds the wait).
  while ((await use.report(5_000))!.places[0]!.files !== 11) await new Promise((r) => setTimeout(r, 10));

  const bounded = new DiskUse({ dataDir: root, places: [{ name: "Cache", paths: [join(root, "cache")] }], maxEntries: 4 });
  const cut = (await bounded.report(5_000))!.places[0]!;
  assert.equal(cut.partial, true, "the walk stopped at its bound and says so");
  assert.ok(cut.files <= 4);
});
