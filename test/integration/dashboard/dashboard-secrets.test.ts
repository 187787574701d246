import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startWorld, type World } from "./dashboard-world.ts";
import { OWNER, REPO } from "../../helpers/microship-harness.ts";
import { loadEnv } from "../../../src/config/env.ts";
import { repoSecrets } from "../../../src/secrets-parts.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteSecretRows } from "../../../src/store/sqlite/sqlite-secret-rows.ts";

const VALUE = "line one of a key\nline-two-9a8b7c6d5e4f";
let w: World;
let side: SqliteDatabase;

before(async () => {
  w = await startWorld();
  w.h.fake.users.addUser("carol", [`${OWNER}/${REPO}`]);
  w.h.fake.setPermission(OWNER, REPO, "carol", "admin");
  side = new SqliteDatabase(join(w.h.dataDir, "microship.sqlite"));
});
after(async () => {
  side?.close();
  await w?.stop();
});

async function signIn(login: string): Promise<string> {
  w.h.fake.users.signedIn = login;
  const start = await fetch(`${w.url}/login`, { redirect: "manual" });
  const stateCookie = start.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
  const back = await fetch(authorize.headers.get("location")!, { redirect: "manual", headers: { cookie: stateCookie } });
  return back.headers.getSetCookie().find((c) => c.startsWith("ms_session="))!.split(";")[0]!;
}

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
/** What a build of the repository with `id` (GitHub's id of octo-org/shop unless said) would get. */
const stored = (id = w.h.fake.state.repo(OWNER, REPO)!.id) =>
  repoSecrets(loadEnv({ MICROSHIP_DATA_DIR: w.h.dataDir }), w.h.dataDir, new SqliteSecretRows(side)).secretsFor({ repositoryId: id, owner: OWNER, repo: REPO } as never);
const PAGE = `/secrets/${OWNER}/${REPO}`;

test("an admin sets and deletes a secret: write-only (never shown again), CSRF-checked, bad ones refused with the rule", async () => {
  const cookie = await signIn("carol");
  const get = (path: string) => fetch(`${w.url}${path}`, { headers: { cookie } });
  const post = (path: string, form: Record<string, string>) =>
    fetch(`${w.url}${path}`, { method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
  const index = await (await get("/secrets")).text();
  assert.match(index, new RegExp(`href="${PAGE}"`));
  const page = await get(PAGE);
  assert.equal(page.status, 200);
  const csrf = csrfOf(await page.text());
  assert.ok(csrf.length > 20);

  assert.equal((await post(`${PAGE}/set`, { name: "API_KEY", value: VALUE })).status, 403, "no CSRF token");
  assert.equal((await post(`${PAGE}/set`, { _csrf: `${csrf}x`, name: "API_KEY", value: VALUE })).status, 403, "another token");
  assert.deepEqual(await stored(), []);

  const set = await post(`${PAGE}/set`, { _csrf: csrf, name: "API_KEY", value: VALUE.replace("\n", "\r\n") });
  assert.equal(set.status, 303);
  assert.deepEqual(await stored(), [{ id: "API_KEY", value: VALUE }], "kept as typed (the browser's CRLF made LF)");
  assert.deepEqual(await stored(w.h.fake.state.repo(OWNER, REPO)!.id + 1), [], "kept under GitHub's id of the repository, not its name");
  assert.ok(w.h.fake.calls.some((c) => c.operationId === "repos/get" && c.auth === "installation" && c.path === `/repos/${OWNER}/${REPO}`), "the id was asked of GitHub");
  const after = await (await get(`${PAGE}?done=set`)).text();
  assert.match(after, /<code>API_KEY<\/code>/);
  assert.match(after, /dashboard:carol/);
  assert.ok(!after.includes("line-two-9a8b7c6d5e4f"), "the value is never sent back");

  for (const [form, why] of [[{ name: "github_x", value: "v" }, /A-Z, 0-9/], [{ name: "BIG", value: "x".repeat(48 * 1024 + 1) }, /at most 48 KiB/]] as const) {
    const res = await post(`${PAGE}/set`, { _csrf: csrf, ...form });
    assert.equal(res.status, 400);
    assert.match(await res.text(), why);
  }
  assert.equal((await post(`${PAGE}/delete`, { _csrf: csrf, name: "API_KEY" })).status, 303);
  assert.deepEqual(await stored(), []);
  assert.ok(!w.h.opLog().includes("line-two-9a8b7c6d5e4f"), "no value in the operator log");
});

test("not an admin (a writer, a reader, an admin demoted a moment ago) or a repository not seen: refused, nothing written", async () => {
  for (const [login, status] of [["alice", 403], ["bob", 403]] as const) {
    const cookie = await signIn(login);
    assert.equal((await fetch(`${w.url}${PAGE}`, { headers: { cookie } })).status, status, login);
    const csrf = csrfOf(await (await fetch(`${w.url}/builds`, { headers: { cookie } })).text());
    const res = await fetch(`${w.url}${PAGE}/set`, { method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: `_csrf=${encodeURIComponent(csrf)}&name=X_KEY&value=v` });
    assert.equal(res.status, 403, `${login} posting`);
    assert.match(await res.text(), /admin access/);
  }
  const carol = await signIn("carol");
  assert.equal((await fetch(`${w.url}/secrets/${OWNER}/secret`, { headers: { cookie: carol } })).status, 404, "a repository carol isn't shown");
  assert.equal((await fetch(`${w.url}/secrets/${OWNER}/..%2F..`, { headers: { cookie: carol } })).status, 404);
  w.h.fake.setPermission(OWNER, REPO, "carol", "maintain");
  assert.equal((await fetch(`${w.url}${PAGE}`, { headers: { cookie: carol } })).status, 403, "GitHub is asked on every request");
  assert.deepEqual(await stored(), []);
  assert.equal((await fetch(`${w.url}${PAGE}`, { redirect: "manual" })).status, 303, "signed out: sent to sign in");
});

test("the attack: the repository is renamed and a new one takes its name; its admin's page shows none of the old one's secrets and sets only its own", async () => {
  w.h.fake.setPermission(OWNER, REPO, "carol", "admin");
  const cookie = await signIn("carol");
  const post = (form: Record<string, string>) =>
    fetch(`${w.url}${PAGE}/set`, { method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
  const csrf = csrfOf(await (await fetch(`${w.url}${PAGE}`, { headers: { cookie } })).text());
  assert.equal((await post({ _csrf: csrf, name: "OLD_KEY", value: "old-repo-value-77" })).status, 303);
  assert.match(await (await fetch(`${w.url}${PAGE}`, { headers: { cookie } })).text(), /<code>OLD_KEY<\/code>/);
  const oldId = w.h.fake.state.repo(OWNER, REPO)!.id;
  w.h.fake.renameRepo(OWNER, REPO, "shop-archive");
  w.h.fake.createRepo({ owner: OWNER, repo: REPO, installationId: w.h.fake.state.repo(OWNER, "shop-archive")!.installationId });
  const page = await (await fetch(`${w.url}${PAGE}`, { headers: { cookie } })).text();
  assert.ok(!page.includes("OLD_KEY"), "the newcomer's page lists the old repository's secret");
  assert.equal((await post({ _csrf: csrf, name: "NEW_KEY", value: "new-repo-value-88" })).status, 303);
  assert.deepEqual(await stored(), [{ id: "NEW_KEY", value: "new-repo-value-88" }]);
  assert.deepEqual(await stored(oldId), [{ id: "OLD_KEY", value: "old-repo-value-77" }], "the renamed repository keeps its own");
});
