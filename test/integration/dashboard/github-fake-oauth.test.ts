/** The GitHub fake's OAuth web flow keeps GitHub's rules, so the dashboard is tested against them. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startGitHubFake, type GitHubFake } from "../../fakes/github/github-fake.ts";
import { appCredentials } from "../../fakes/app-credentials.ts";

let fake: GitHubFake;
const callback = "http://app.test/login/callback";
before(async () => {
  const creds = appCredentials();
  fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  fake.createRepo({ owner: "o", repo: "r", installationId: 5 });
  fake.users.client = { id: "Iv1", secret: "sec", callbackUrl: callback };
  fake.users.addUser("alice", ["o/r"]);
});
after(() => fake?.close());

async function code(state = "s1"): Promise<string> {
  fake.users.signedIn = "alice";
  const res = await fetch(`${fake.url}/login/oauth/authorize?client_id=Iv1&redirect_uri=${encodeURIComponent(callback)}&state=${state}`, { redirect: "manual" });
  assert.equal(res.status, 302);
  const back = new URL(res.headers.get("location")!);
  assert.equal(back.searchParams.get("state"), state, "the state comes back unchanged");
  return back.searchParams.get("code")!;
}

const exchange = (body: Record<string, string>) =>
  fetch(`${fake.url}/login/oauth/access_token`, { method: "POST", headers: { accept: "application/json", "content-type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, string> }));

test("a code is traded once, with the right secret and redirect_uri; errors come as 200 with an error field", async () => {
  const c = await code();
  assert.equal((await exchange({ client_id: "Iv1", client_secret: "nope", code: c })).body.error, "incorrect_client_credentials");
  const c2 = await code();
  assert.equal((await exchange({ client_id: "Iv1", client_secret: "sec", code: c2, redirect_uri: "http://elsewhere.test/cb" })).body.error, "redirect_uri_mismatch");
  const c3 = await code();
  const ok = await exchange({ client_id: "Iv1", client_secret: "sec", code: c3, redirect_uri: callback });
  assert.equal(ok.status, 200);
  assert.match(ok.body.access_token!, /^ghu_/);
  const again = await exchange({ client_id: "Iv1", client_secret: "sec", code: c3 });
  assert.deepEqual([again.status, again.body.error], [200, "bad_verification_code"], "a code works once");
  const me = await fetch(`${fake.url}/api/v3/user`, { headers: { authorization: `token ${ok.body.access_token}` } });
  assert.equal(((await me.json()) as { login: string }).login, "alice");
});

test("authorize refuses an unknown client and a foreign redirect_uri, and says access_denied when the user declines", async () => {
  assert.equal((await fetch(`${fake.url}/login/oauth/authorize?client_id=Iv9`, { redirect: "manual" })).status, 404);
  assert.equal((await fetch(`${fake.url}/login/oauth/authorize?client_id=Iv1&redirect_uri=${encodeURIComponent("http://evil.test/")}`, { redirect: "manual" })).status, 400);
  fake.users.signedIn = null;
  const res = await fetch(`${fake.url}/login/oauth/authorize?client_id=Iv1&state=x`, { redirect: "manual" });
  const back = new URL(res.headers.get("location")!);
  assert.deepEqual([back.searchParams.get("error"), back.searchParams.get("state"), back.searchParams.get("code")], ["access_denied", "x", null]);
});

test("the user endpoints take a user token only", async () => {
  const installation = fake.state.mintToken(5)!.token;
  assert.equal((await fetch(`${fake.url}/api/v3/user/installations`, { headers: { authorization: `token ${installation}` } })).status, 403);
  assert.equal((await fetch(`${fake.url}/api/v3/user/installations`)).status, 401);
});
