import { test } from "node:test";
import assert from "node:assert/strict";
import { DeployLog } from "../../../src/core/deploy/deploy-log.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";

test("deploying one image again and again can't grow its build's log without end: past the total, a deploy adds nothing", async () => {
  const store = new SqliteStore(new SqliteDatabase(":memory:"));
  const sub = await store.submit(buildRequest({ sha: sha("a"), branch: "main" }));
  const id = sub.kind === "created" ? sub.build.id : assert.fail("not created");
  const errors: unknown[] = [];
  const stored = async () => (await store.logTail(id, 0)).totalBytes;
  const TOTAL = 64 * 1024;
  const line = "x".repeat(1000);
  const deploy = async (n: number) => {
    const log = await DeployLog.open(store, id, (err) => errors.push(err), TOTAL);
    log.system(`--- deploy ${n} ---`);
    for (let i = 0; i < 200; i++) log.line(line);
    log.system(`deploy ${n} ended`);
    await log.flush();
  };
  await deploy(1);
  const afterOne = await stored();
  const text = (await store.readLog(id)).map((l) => l.text);
  assert.ok(text.some((t) => /^The rest of this deploy's output was cut: it passed \d+ KiB\.$/.test(t)), "the first deploy's output was cut to the room left");
  assert.equal(text.at(-1), "deploy 1 ended", "and it still says how it ended");
  assert.ok(afterOne <= TOTAL + 4096, `${afterOne} bytes after one deploy`);
  for (let n = 2; n <= 6; n++) await deploy(n);
  assert.equal(await stored(), afterOne, "no later deploy added a byte");
  assert.deepEqual(errors, []);
});
