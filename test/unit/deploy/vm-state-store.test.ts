import { test } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VmStateStore } from "../../../src/deploy/microvm/vm-state-store.ts";
import { production, savedVm, warnLog } from "../../helpers/saved-vms.ts";

const SECRET = "s3cr3t-database-password-value";
const env = { DATABASE_URL: `postgres://app:${SECRET}@db/app`, PORT: "3000" };

function fresh() {
  const root = mkdtempSync(join(tmpdir(), "ms-vm-state-"));
  const log = warnLog();
  const store = new VmStateStore({ dir: join(root, "state"), log });
  return { root, dir: join(root, "state"), log, store, done: () => rmSync(root, { recursive: true, force: true }) };
}

test("a saved VM comes back whole, its env included; the file is 0600 in a 0700 dir, the key 0600 beside the dir", async () => {
  const t = fresh();
  const s = savedVm({ qemu: { pid: 1234, startTime: "99887766" } });
  const e = savedVm({ target: production, digestByte: "cd", state: "starting" });
  e.release = "npm run migrate";
  await t.store.save(s, env);
  await t.store.save(e, {});
  const again = new VmStateStore({ dir: t.dir, log: t.log });
  const loaded = again.loadAll().sort((a, b) => a.saved.instance.localeCompare(b.saved.instance));
  assert.deepEqual(loaded.map((l) => l.saved).sort((a, b) => a.instance.localeCompare(b.instance)), [s, e].sort((a, b) => a.instance.localeCompare(b.instance)));
  assert.deepEqual(loaded.find((l) => l.saved.instance === s.instance)?.env, env);
  assert.equal(statSync(join(t.dir, `${s.instance}.json`)).mode & 0o777, 0o600);
  assert.equal(statSync(t.dir).mode & 0o777, 0o700);
  assert.equal(statSync(`${t.dir}.key`).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(t.dir).sort(), [`${e.instance}.json`, `${s.instance}.json`].sort(), "no key, no temp file in the state dir");
  assert.deepEqual(t.log.warnings, []);
  t.done();
});

test("the env's secret values are not in the file's bytes (nor its names); another data dir's key can't open it", async () => {
  const t = fresh();
  const s = savedVm();
  await t.store.save(s, env);
  const bytes = readFileSync(join(t.dir, `${s.instance}.json`));
  assert.equal(bytes.includes(SECRET), false);
  assert.equal(bytes.includes("DATABASE_URL"), false);
  assert.equal(bytes.includes(s.instance), true, "the record itself stays readable for an operator");
  const other = fresh();
  mkdirSync(other.dir, { recursive: true });
  writeFileSync(join(other.dir, `${s.instance}.json`), bytes);
  assert.deepEqual(other.store.loadAll(), []);
  assert.match(other.log.warnings.join("\n"), /does not open with this data dir's key/);
  t.done();
  other.done();
});

test("a tampered record or env, garbage, an oversized file and a symlink are refused with a warning, and the good file still loads", async () => {
  const t = fresh();
  const good = savedVm();
  await t.store.save(good, env);
  const p1 = savedVm({ digestByte: "01" });
  await t.store.save(p1, env);
  const f1 = join(t.dir, `${p1.instance}.json`);
  const outer = JSON.parse(readFileSync(f1, "utf8"));
  // The port moved to another app's: the env's seal covers the record, so it no longer opens.
  writeFileSync(f1, JSON.stringify({ ...outer, record: outer.record.replace('"port":3000', '"port":3001') }));
  const p2 = savedVm({ digestByte: "02" });
  await t.store.save(p2, env);
  const f2 = join(t.dir, `${p2.instance}.json`);
  const outer2 = JSON.parse(readFileSync(f2, "utf8"));
  const data = Buffer.from(outer2.env.data, "base64");
  data[0]! ^= 1;
  writeFileSync(f2, JSON.stringify({ ...outer2, env: { ...outer2.env, data: data.toString("base64") } }));
  writeFileSync(join(t.dir, "garbage.json"), "{not json");
  writeFileSync(join(t.dir, "schema.json"), JSON.stringify({ v: 1, record: JSON.stringify({ v: 1, name: "x" }), env: { iv: "", tag: "", data: "" } }));
  writeFileSync(join(t.dir, "big.json"), "x".repeat(300 * 1024));
  // A valid file of this key, outside, linked in: a symlink is never followed.
  const p3 = savedVm({ digestByte: "03" });
  writeFileSync(join(t.root, "outside.json"), t.store.seal(p3, env));
  symlinkSync(join(t.root, "outside.json"), join(t.dir, `${p3.instance}.json`));
  mkdirSync(join(t.dir, "adir.json"));
  const loaded = new VmStateStore({ dir: t.dir, log: t.log }).loadAll();
  assert.deepEqual(loaded.map((l) => l.saved.instance), [good.instance]);
  const w = t.log.warnings.join("\n");
  assert.equal((w.match(/a deploy state file was ignored/g) ?? []).length, 7, w);
  for (const why of ["does not open with this data dir's key", "not a deploy state file", "larger than 262144 bytes", "it is a symlink", "not a regular file"]) assert.match(w, new RegExp(why));
  assert.doesNotMatch(w, new RegExp(SECRET));
  t.done();
});

test("a record whose name or instance this deployer would not make, or saved under another file name, is ignored", async () => {
  const t = fresh();
  mkdirSync(t.dir, { recursive: true });
  const s = savedVm();
  // Sealed with the right key: only the naming rules refuse these.
  writeFileSync(join(t.dir, `${s.instance}.json`), t.store.seal({ ...s, owner: "someone-else" }, env));
  const other = savedVm({ digestByte: "05" });
  writeFileSync(join(t.dir, `${other.instance}.json`), t.store.seal({ ...other, instance: `${other.name}-000000000000` }, env));
  const moved = savedVm({ digestByte: "06" });
  writeFileSync(join(t.dir, "pr-1-elsewhere-abcdef-060606060606.json"), t.store.seal(moved, env));
  assert.deepEqual(t.store.loadAll(), []);
  const w = t.log.warnings.join("\n");
  for (const why of ["the name does not match", "the instance does not match", "the file name does not match"]) assert.match(w, new RegExp(why));
  t.done();
});

test("writes are atomic and in order: a crash's temp file is dropped, the previous file loads, the last of quick saves wins, a removal after a save removes", async () => {
  const t = fresh();
  const s = savedVm();
  await t.store.save(s, env);
  writeFileSync(join(t.dir, `.${s.instance}.999.deadbeef.tmp`), "{half a fi");
  assert.deepEqual(t.store.loadAll().map((l) => l.saved), [s]);
  assert.deepEqual(readdirSync(t.dir), [`${s.instance}.json`], "the leftover temp file is gone");
  const saves = [1, 2, 3, 4, 5].map((port) => t.store.save({ ...s, port }, env));
  await Promise.all(saves);
  assert.equal(t.store.loadAll()[0]?.saved.port, 5);
  void t.store.save({ ...s, port: 6 }, env);
  void t.store.remove(s.instance);
  await t.store.flush();
  assert.deepEqual(readdirSync(t.dir), []);
  t.done();
});

test("at most maxFiles records load; a state dir that is a symlink is refused", async () => {
  const t = fresh();
  for (const b of ["11", "12", "13"]) await t.store.save(savedVm({ digestByte: b }), env);
  assert.equal(new VmStateStore({ dir: t.dir, log: t.log, maxFiles: 2 }).loadAll().length, 2);
  assert.match(t.log.warnings.join("\n"), /too many deploy state files/);
  symlinkSync(t.dir, join(t.root, "linked"));
  assert.throws(() => new VmStateStore({ dir: join(t.root, "linked") }), /not a directory \(a symlink is refused\)/);
  assert.ok(lstatSync(join(t.root, "linked")).isSymbolicLink());
  t.done();
});

test("a redeploy's fresh instance (the digest's 6 hex and 6 of its own) is restored; other tails after those 6 are not", async () => {
  const t = fresh();
  const s = savedVm({ digestByte: "07" });
  const six = s.digest.split(":")[1]!.slice(0, 6);
  const fresh1 = { ...s, instance: `${s.name}-${six}a1b2c3` };
  await t.store.save(fresh1, env);
  for (const tail of ["a1b2c", "a1b2c3d", "A1B2C3", "a1b2-3", "../../x"]) {
    const bad = { ...s, instance: `${s.name}-${six}${tail}` };
    writeFileSync(join(t.dir, `${bad.instance.replaceAll("/", "_")}.json`), t.store.seal(bad, env));
  }
  assert.deepEqual(t.store.loadAll().map((l) => l.saved.instance), [fresh1.instance]);
  t.done();
});
