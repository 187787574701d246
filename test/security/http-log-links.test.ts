import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHarness, type Harness } from "../helpers/microship-harness.ts";
import { appCredentials } from "../fakes/app-credentials.ts";
import { loadLinkSecret } from "../../src/http/link-secret.ts";
import { startLogRetention } from "../../src/store/log-retention.ts";
import { createLogger } from "../../src/log/logger.ts";
import { line, linksOf, pathOf, seedBuild } from "./http-seed.ts";

const DAY = 86_400_000;
let h: Harness;
let keyDir: string;
const quiet = createLogger("silent");

// The app reads its private key from a file, as the report's forgery needed: Probot then keeps
// the key out of reach, and the old code fell back to a secret made of the public App ID.
before(async () => {
  keyDir = await mkdtemp(join(tmpdir(), "ms-sec-key-"));
  const keyPath = join(keyDir, "app.pem");
  await writeFile(keyPath, appCredentials().privateKeyPem, { mode: 0o600 });
  h = await startHarness({}, { PRIVATE_KEY: "", PRIVATE_KEY_PATH: keyPath });
});
after(async () => {
  await h?.stop();
  await rm(keyDir, { recursive: true, force: true });
});

const get = (path: string) => fetch(`${h.app.url}${path}`, { redirect: "manual" });
const hmac = (key: string | Buffer, text: string) => createHmac("sha256", key).update(text).digest("base64url").slice(0, 32);
/** What anyone knowing the App ID could compute under the old code. */
const publicSecret = () => createHash("sha256").update(`microship-links:${h.creds.appId}`).digest("hex");

test("a token computed from the App ID alone (the old fallback secret) opens nothing, in the old or the new link format", async () => {
  const id = await seedBuild(h.app.store, [line("secret build output")]);
  const exp = Math.floor(Date.now() / 1000) + 3600;
  for (const query of [`token=${hmac(publicSecret(), `build-log:${id}`)}`, `exp=${exp}&token=${hmac(publicSecret(), `build-log\n${id}\n${exp}`)}`]) {
    const res = await get(`/builds/${id}?${query}`);
    assert.equal(res.status, 404, query);
    assert.equal(await res.text(), "not found\n");
  }
  const real = await get(pathOf(h.app.links.detailsUrl(id)));
  assert.equal(real.status, 200, "the app's own link works");
  assert.match(await real.text(), /secret build output/);
});

test("a link in the old format (token only, no expiry) stops working", async () => {
  const id = await seedBuild(h.app.store, [line("x")]);
  const url = new URL(h.app.links.detailsUrl(id));
  const res = await get(`/builds/${id}?token=${url.searchParams.get("token")}`);
  assert.equal(res.status, 404);
});

test("the key is random, kept in the data dir with mode 0600, and not derived from anything public", async () => {
  const info = await stat(join(h.dataDir, "log-link.key"));
  assert.equal(info.mode & 0o777, 0o600);
  assert.equal(info.size, 32);
  const id = await seedBuild(h.app.store, [line("x")]);
  assert.equal((await get(pathOf(linksOf(h.dataDir, "http://x").detailsUrl(id)))).status, 200, "links are signed with that key");
});

test("a token for build A opens neither build B nor A with a later expiry", async () => {
  const a = await seedBuild(h.app.store, [line("build A")]);
  const b = await seedBuild(h.app.store, [line("build B")]);
  const aUrl = new URL(h.app.links.detailsUrl(a));
  const exp = Number(aUrl.searchParams.get("exp"));
  const token = aUrl.searchParams.get("token");
  for (const path of [`/builds/${b}?exp=${exp}&token=${token}`, `/builds/${b}/log.txt?exp=${exp}&token=${token}`, `/builds/${a}?exp=${exp + 86_400 * 365}&token=${token}`]) {
    const res = await get(path);
    assert.equal(res.status, 404, path);
    assert.equal(await res.text(), "not found\n", path);
  }
});

test("links expire: an expired link says so; a forged token with a past expiry learns nothing", async () => {
  const id = await seedBuild(h.app.store, [line("x")]);
  const signedLastMonth = linksOf(h.dataDir, "http://x", 30, () => Date.now() - 31 * DAY).detailsUrl(id);
  for (const path of [pathOf(signedLastMonth), pathOf(signedLastMonth).replace("?", "/log.txt?")]) {
    const res = await get(path);
    assert.equal(res.status, 410, path);
    assert.match(await res.text(), /This link has expired/);
  }
  const exp = Math.floor(Date.now() / 1000) - 60;
  const forged = await get(`/builds/${id}?exp=${exp}&token=${"A".repeat(32)}`);
  assert.equal(forged.status, 404);
  assert.equal(await forged.text(), "not found\n", "no hint that the build exists");
});

test("a details link lasts MICROSHIP_LOG_LINK_DAYS (30 by default), and reading the page never hands out a longer-lived one", async () => {
  const id = await seedBuild(h.app.store, [line("x")]);
  const url = new URL(h.app.links.detailsUrl(id));
  const days = (Number(url.searchParams.get("exp")) * 1000 - Date.now()) / DAY;
  assert.ok(days > 30 && days <= 31, `the link lasts ${days.toFixed(2)} days`);
  const html = await (await get(pathOf(url.href))).text();
  const hrefs = [...html.matchAll(/(?:href="|\]\()([^")]*)/g)].map((m) => m[1]!.replaceAll("&#38;", "&"));
  assert.ok(hrefs.length > 0);
  for (const href of hrefs) assert.ok(href.includes(`exp=${url.searchParams.get("exp")}&`), `${href} keeps the request's expiry`);
});

test("logs are deleted MICROSHIP_LOG_RETENTION_DAYS after their build ended and their last line, in small steps, and the page then says so", async () => {
  const endedAt = Date.now() - 31 * DAY;
  const old = await seedBuild(h.app.store, Array.from({ length: 2_000 }, (_, i) => line(`old ${i}`)), endedAt);
  for (let i = 0; i < 450; i++) await h.app.store.appendLog(old, [line(`chunk ${i}`)], endedAt + i);
  const recent = await seedBuild(h.app.store, [line("recent")], Date.now() - 29 * DAY);
  // An image deployed again today writes to its 31-day-old build's log: that log stays.
  const redeployed = await seedBuild(h.app.store, [line("built")], endedAt);
  await h.app.store.appendLog(redeployed, [line("--- Rolled back ---")]);
  assert.equal((await get(pathOf(h.app.links.detailsUrl(old)))).status, 200, "not yet swept: still shown");
  const steps: number[] = [];
  const store = Object.assign(Object.create(h.app.store), {
    deleteLogsBefore: async (time: number, limit: number) => {
      const n = await h.app.store.deleteLogsBefore(time, limit);
      steps.push(n);
      return n;
    },
  });
  const retention = startLogRetention({ store, days: 30, log: quiet, everyMs: 3_600_000 });
  assert.equal(await retention.sweep(), 454, "the sweep at start deleted the old build's chunks");
  assert.deepEqual(steps, [200, 200, 54], "in steps of at most 200");
  assert.equal(await retention.sweep(), 0, "nothing is left to delete");
  await retention.stop();
  assert.deepEqual(await h.app.store.readLog(old), []);
  const res = await get(pathOf(h.app.links.detailsUrl(old)));
  assert.equal(res.status, 410);
  assert.match(await res.text(), /log was deleted: logs are kept for 30 days/);
  assert.deepEqual((await h.app.store.readLog(recent)).map((l) => l.text), ["recent"]);
  assert.equal((await get(pathOf(h.app.links.detailsUrl(recent)))).status, 200);
  assert.deepEqual((await h.app.store.readLog(redeployed)).map((l) => l.text), ["built", "--- Rolled back ---"]);
  const page = await get(pathOf(h.app.links.detailsUrl(redeployed)));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Rolled back/);
});

test("the link key is made once: a restart on the same data dir reads it back; a symlink in its place is refused", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-sec-linkkey-"));
  try {
    const first = loadLinkSecret(dir, undefined, quiet);
    assert.deepEqual(loadLinkSecret(dir, undefined, quiet), first);
    assert.equal(loadLinkSecret(dir, "a-configured-secret-for-replicas", quiet), "a-configured-secret-for-replicas");
    const other = await mkdtemp(join(tmpdir(), "ms-sec-linkkey-"));
    await writeFile(join(other, "target"), Buffer.alloc(32));
    await symlink(join(other, "target"), join(other, "log-link.key"));
    assert.throws(() => loadLinkSecret(other, undefined, quiet), /ELOOP/);
    await rm(other, { recursive: true, force: true });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
