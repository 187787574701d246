/**
 * The dashboard over plain HTTP: what needs no browser (headers, refusals, the event stream's
 * resume). The browser tests are in dashboard-browser.test.ts.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startWorld, until, gate, CLIENT_SECRET, type World } from "./dashboard-world.ts";
import { startHarness } from "../../helpers/microship-harness.ts";

/** Signs in as `login` the way a browser would, by following the redirects by hand; returns the cookie. */
async function signIn(w: World, login: string): Promise<string> {
  w.h.fake.users.signedIn = login;
  const start = await fetch(`${w.url}/login`, { redirect: "manual" });
  const stateCookie = start.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
  const back = await fetch(authorize.headers.get("location")!, { redirect: "manual", headers: { cookie: stateCookie } });
  assert.equal(back.status, 303, await back.text());
  const session = back.headers.getSetCookie().find((c) => c.startsWith("ms_session="));
  assert.ok(session, "a session cookie");
  assert.match(session, /HttpOnly/);
  assert.match(session, /SameSite=Lax/);
  return session.split(";")[0]!;
}

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

describe("dashboard over HTTP", () => {
  let w: World;
  before(async () => {
    w = await startWorld();
  });
  after(() => w?.stop());

  after(() => {
    const log = w.h.opLog();
    assert.match(log, /dashboard sign-in/, "the log was captured");
    for (const token of w.h.fake.users.tokens.keys()) assert.ok(!log.includes(token), "no user token in the operator log");
    assert.doesNotMatch(log, /ghu_[A-Za-z0-9]{20}/);
    assert.ok(!log.includes(CLIENT_SECRET), "nor the client secret");
  });

  test("a signed-in page carries the dashboard's CSP: no inline script, no framing, nosniff", async () => {
    const cookie = await signIn(w, "alice");
    const res = await fetch(`${w.url}/builds`, { headers: { cookie } });
    assert.equal(res.status, 200);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.doesNotMatch(await res.text(), /<script>|<script [^>]*>[^<]/, "no inline script in the page");
    for (const path of ["/deployments", "/health"]) {
      const other = await fetch(`${w.url}${path}`, { headers: { cookie } });
      assert.equal(other.headers.get("content-security-policy"), csp, path);
      assert.doesNotMatch(await other.text(), /<script>|<script [^>]*>[^<]| style=/, `${path}: no inline script or style`);
    }
    assert.match(await (await fetch(`${w.url}/deployments`, { headers: { cookie } })).text(), /Nothing deploys here/);
  });

  test("without a session the pages send you to sign in, and the events stream gives nothing", async () => {
    for (const path of ["/builds", "/builds/anything", "/builds/anything/events", "/builds/anything/download", "/deployments", "/health"]) {
      const res = await fetch(`${w.url}${path}`, { redirect: "manual" });
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get("location"), "/");
    }
  });

  test("a check run's capability link works as before, signed in or not", async () => {
    const build = await w.push({ branch: "link" });
    await until(async () => (await w.h.app.store.getBuild(build.id))?.state === "completed", "the build to end");
    const link = new URL(w.h.app.links.detailsUrl(build.id));
    for (const cookie of ["", await signIn(w, "bob")]) {
      const page = await fetch(`${w.url}${link.pathname}${link.search}`, { headers: { cookie } });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /<pre id="log">/);
      assert.doesNotMatch(html, /Sign out|_csrf/, "the old page, not the dashboard's");
      assert.match(page.headers.get("content-security-policy") ?? "", /form-action 'none'/);
      const text = await fetch(`${w.url}${link.pathname}/log.txt${link.search}`);
      assert.equal(text.status, 200);
    }
    const forged = await fetch(`${w.url}${link.pathname}?exp=${link.searchParams.get("exp")}&token=${"A".repeat(32)}`);
    assert.equal(forged.status, 404, "a forged link is refused, not sent to the dashboard");
  });

  test("a token GitHub no longer accepts ends the session", async () => {
    const cookie = await signIn(w, "bob");
    w.h.fake.users.tokens.clear();
    const res = await fetch(`${w.url}/builds`, { headers: { cookie }, redirect: "manual" });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/");
    assert.ok(res.headers.getSetCookie().some((c) => c.startsWith("ms_session=;") && c.includes("Max-Age=0")));
  });

  test("a forged or tampered session cookie is no session", async () => {
    const cookie = await signIn(w, "alice");
    const value = cookie.slice("ms_session=".length);
    const flipped = value.slice(0, 20) + (value[20] === "A" ? "B" : "A") + value.slice(21);
    for (const bad of [`ms_session=${flipped}`, "ms_session=eyJsb2dpbiI6ImFsaWNlIn0", `ms_session=${value}x`]) {
      const res = await fetch(`${w.url}/builds`, { headers: { cookie: bad }, redirect: "manual" });
      assert.equal(res.status, 303, bad);
    }
  });

  test("a callback whose state is not the one this browser was given is refused, and GitHub is not asked for a token", async () => {
    w.h.fake.users.signedIn = "alice";
    const start = await fetch(`${w.url}/login`, { redirect: "manual" });
    const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
    const calls = w.h.fake.calls.filter((c) => c.operationId === "oauth/access_token").length;
    // The attacker's own callback URL, opened in the victim's browser (which holds another state).
    const other = await fetch(`${w.url}/login`, { redirect: "manual" });
    const victimCookie = other.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const res = await fetch(authorize.headers.get("location")!, { redirect: "manual", headers: { cookie: victimCookie } });
    assert.equal(res.status, 400);
    assert.ok(!res.headers.getSetCookie().some((c) => c.startsWith("ms_session=") && !c.includes("Max-Age=0")));
    assert.equal(w.h.fake.calls.filter((c) => c.operationId === "oauth/access_token").length, calls);
  });

  test("a denied authorization and a bad code end on the sign-in page with no session", async () => {
    w.h.fake.users.signedIn = null;
    const start = await fetch(`${w.url}/login`, { redirect: "manual" });
    const stateCookie = start.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
    const denied = await fetch(authorize.headers.get("location")!, { headers: { cookie: stateCookie } });
    assert.equal(denied.status, 400);
    assert.match(await denied.text(), /did not sign you in/);

    const again = await fetch(`${w.url}/login`, { redirect: "manual" });
    const cookie2 = again.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const state = new URL(again.headers.get("location")!).searchParams.get("state")!;
    const bad = await fetch(`${w.url}/login/callback?code=0123456789abcdef&state=${state}`, { headers: { cookie: cookie2 } });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /GitHub refused the sign-in/);
    assert.ok(w.h.fake.calls.some((c) => c.operationId === "oauth/access_token" && c.status === 200), "GitHub answered, with an error field");
  });

  test("CSRF: Rebuild, Cancel and Sign out are refused without the session's token", async () => {
    const build = await w.push({ branch: "csrf" });
    await until(async () => (await w.h.app.store.getBuild(build.id))?.state === "completed", "the build to end");
    const cookie = await signIn(w, "alice");
    const page = await (await fetch(`${w.url}/builds/${build.id}`, { headers: { cookie } })).text();
    const token = csrfOf(page);
    assert.ok(token.length > 20, "the page has the form's token");
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${w.url}${path}`, { method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...headers }, body });
    for (const body of ["", "_csrf=", `_csrf=${token.slice(0, -1)}${token.endsWith("x") ? "y" : "x"}`, `_csrf=${encodeURIComponent(csrfOf(await (await fetch(`${w.url}/builds`, { headers: { cookie: await signIn(w, "alice") } })).text()))}`]) {
      const res = await post(`/builds/${build.id}/rebuild`, body);
      assert.equal(res.status, 403, `rebuild with ${body || "no body"}`);
    }
    assert.equal((await post(`/builds/${build.id}/rebuild`, `_csrf=${token}`, { "content-type": "text/plain" })).status, 403, "not a form");
    assert.equal((await post(`/builds/${build.id}/cancel`, "")).status, 403);
    assert.equal((await post("/logout", "")).status, 403);
    assert.equal((await post("/deployments/teardown", "instance=anything")).status, 403);
    assert.equal((await w.h.app.store.listBuilds({ repos: ["octo-org/shop"], branch: "csrf", limit: 10, offset: 0 })).length, 1, "nothing was rebuilt");
    const ok = await post(`/builds/${build.id}/rebuild`, `_csrf=${encodeURIComponent(token)}`);
    assert.equal(ok.status, 303, "the same form with its token works");
    const out = await post("/logout", `_csrf=${encodeURIComponent(token)}`);
    assert.equal(out.status, 303);
    assert.ok(out.headers.getSetCookie().some((c) => c.startsWith("ms_session=;") && c.includes("Max-Age=0")), "signing out clears the cookie");
  });

  test("the event stream resumes at Last-Event-ID's line offset and ends once the build has", async () => {
    const step = gate();
    const cookie = await signIn(w, "alice");
    const sha = w.h.fake.commit({ owner: "octo-org", repo: "shop", branch: "sse", files: { "x.txt": "2\n" } });
    w.scripts.set(sha, { steps: [{ lines: ["l0", "l1", "l2", "l3", "l4"], gate: step.promise }, { lines: ["l5", "l6"] }] });
    await w.h.send("push", w.h.pushPayload({ sha, branch: "sse" }));
    const build = await until(() => w.h.app.store.latestBuildForSha("octo-org", "shop", sha, true), "the build");
    await until(async () => (await w.h.app.store.readLog(build.id)).some((l) => l.text === "l4"), "five lines stored");

    const whole = await openEvents(w, build.id, cookie, {});
    const all = await whole.until((e) => e.lines.some((l) => l.text === "l4"));
    whole.close();
    const texts = all.flatMap((e) => e.lines.map((l) => l.text));
    const at = texts.indexOf("l2");
    assert.ok(at >= 2, "the pipeline's own lines come first, then the builder's");
    assert.equal(all.at(-1)!.id, String(texts.length), "an event's id is the line offset after it");

    // A reconnect: the header wins over the page's ?from=.
    const resumed = await openEvents(w, build.id, cookie, { "last-event-id": String(at) }, "?from=0");
    const first = await resumed.until((e) => e.lines.length > 0);
    assert.deepEqual(first[0]!.lines.slice(0, 3).map((l) => l.text), ["l2", "l3", "l4"]);
    assert.equal((await w.h.app.store.getBuild(build.id))?.state, "running", "the lines came while the build ran");
    step.release();
    const rest = await resumed.until((e) => e.event === "end");
    assert.deepEqual(rest.flatMap((e) => e.lines.map((l) => l.text)).filter((t) => /^l\d$/.test(t)), ["l2", "l3", "l4", "l5", "l6"]);
    assert.deepEqual(JSON.parse(rest.at(-1)!.data), { state: "completed", conclusion: "success" });
    resumed.close();

    const nonsense = await openEvents(w, build.id, cookie, { "last-event-id": "-1; drop table" }, "?from=../../etc");
    const replay = await nonsense.until((e) => e.event === "end");
    assert.equal(replay.flatMap((e) => e.lines)[0]!.text, texts[0], "a malformed offset starts at 0");
    nonsense.close();
  });

  test("stored colour runs are untrusted: real ones become known classes around escaped text, forged ones are dropped", async () => {
    const cookie = await signIn(w, "alice");
    const pushed = await w.push({ branch: "colours" });
    const build = await until(async () => ((await w.h.app.store.getBuild(pushed.id))?.state === "completed" ? pushed : null), "the build to end");
    const red = (1 + 1) << 4;
    const line = (text: string, sgr: unknown) => ({ ts: Date.UTC(2026, 0, 2, 3, 4, 5, 678), stream: "stdout" as const, text, sgr: sgr as never });
    await w.h.app.store.appendLog(build.id, [
      line("<b>red</b> & plain", [[0, 10, red | 1]]),
      line("past-the-end", [[0, 99, red]]),
      line("bogus-class", [[0, 3, `x" onmouseover="alert(1)`]]),
      line("no-such-style", [[0, 3, 1 << 20]]),
      line("colour-seventeen", [[0, 3, 18 << 4]]),
      line("overlapping", [[0, 3, red], [2, 4, red]]),
      line("a-string", "ansi-fg-1"),
      line("x".repeat(70), Array.from({ length: 65 }, (_, i) => [i, i + 1, red])),
      line("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 here", [[0, 5, red]]),
    ]);
    const res = await fetch(`${w.url}/builds/${build.id}`, { headers: { cookie } });
    const html = await res.text();
    assert.equal(res.status, 200, html.slice(0, 2000));
    const start = html.indexOf('<pre id="log"');
    const log = html.slice(start, html.indexOf("</pre>", start));
    assert.match(log, /<pre id="log" class=""/, "timestamps hidden by default");
    assert.ok(log.includes('<span class="stdout"><span class="ts">03:04:05.678 </span><span class="ansi-bold ansi-fg-1">&lt;b&gt;red&lt;/b&gt;</span> &amp; plain</span>'), log.slice(-1500));
    assert.equal(log.match(/class="ansi-/g)?.length, 1, "every forged run is drawn plain");
    assert.doesNotMatch(log, /onmouseover="|ghp_abc/);
    assert.ok(log.includes('<span class="ts">03:04:05.678 </span>past-the-end</span>'));
    const shown = await fetch(`${w.url}/builds/${build.id}?timestamps=1`, { headers: { cookie } });
    assert.match(await shown.text(), /<pre id="log" class="show-ts"/, "without JavaScript ?timestamps=1 shows them");

    const events = await openEvents(w, build.id, cookie, {});
    const all = await events.until((e) => e.event === "end");
    events.close();
    const sent = all.flatMap((e) => e.lines) as unknown as { text: string; runs: unknown }[];
    assert.deepEqual(sent.find((l) => l.text.startsWith("<b>"))?.runs, [[0, 10, "ansi-bold ansi-fg-1"]]);
    assert.deepEqual([...new Set(sent.filter((l) => !l.text.startsWith("<b>")).map((l) => JSON.stringify(l.runs)))], ["[]"]);
  });
});

interface Sse {
  event: string;
  id: string;
  data: string;
  lines: { text: string; stream: string }[];
}

async function openEvents(w: World, id: string, cookie: string, headers: Record<string, string>, query = "") {
  const ac = new AbortController();
  const res = await fetch(`${w.url}/builds/${id}/events${query}`, { headers: { cookie, ...headers }, signal: ac.signal });
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const reader = res.body!.getReader();
  let buffer = "";
  const events: Sse[] = [];
  return {
    close: () => ac.abort(),
    async until(done: (e: Sse) => boolean): Promise<Sse[]> {
      for (;;) {
        const cut = buffer.indexOf("\n\n");
        if (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const field = (name: string) => block.split("\n").find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? "";
          if (!field("event")) continue;
          const e: Sse = { event: field("event"), id: field("id"), data: field("data"), lines: [] };
          if (e.event === "lines") e.lines = JSON.parse(e.data);
          events.push(e);
          if (done(e)) return events;
          continue;
        }
        const { value, done: ended } = await reader.read();
        if (ended) throw new Error(`the stream ended first: ${JSON.stringify(events.map((e) => e.event))}`);
        buffer += Buffer.from(value).toString("utf8");
      }
    },
  };
}

test("without OAuth credentials the dashboard is off and / says how to turn it on", async () => {
  const h = await startHarness();
  try {
    const res = await fetch(`${h.app.url}/`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /GITHUB_CLIENT_ID/);
    assert.match(html, /GITHUB_CLIENT_SECRET/);
    assert.match(html, /http:\/\/microship\.test\/login\/callback/);
    assert.equal((await fetch(`${h.app.url}/builds`)).status, 404);
    assert.equal((await fetch(`${h.app.url}/login`)).status, 404);
  } finally {
    await h.stop();
  }
});
