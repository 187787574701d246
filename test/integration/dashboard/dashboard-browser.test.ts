/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core), signed in
 * through the GitHub fake's OAuth web flow. MICROSHIP_SCREENSHOTS=1 saves the main pages as
 * PNGs in docs/screenshots/.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { startWorld, until, gate, TOOLS, type World } from "./dashboard-world.ts";
import { buildRequest } from "../../helpers/build-requests.ts";

const SHOTS = process.env.MICROSHIP_SCREENSHOTS === "1" ? new URL("../../../docs/screenshots/", import.meta.url) : null;
type Browser = Awaited<ReturnType<World["browser"]>>;

async function signIn(b: Browser, url: string): Promise<Page> {
  await b.page.goto(`${url}/`);
  await b.page.getByRole("link", { name: "Sign in with GitHub" }).click();
  await b.page.waitForURL(`${url}/builds`);
  return b.page;
}

const rowsText = (page: Page) => page.locator("table.builds tbody tr").allInnerTexts();

describe("dashboard in Chromium", { timeout: 120_000 }, () => {
  let w: World;
  let alice: Browser;
  let bob: Browser;
  before(async () => {
    w = await startWorld({}, { listRefreshMs: 300 });
    alice = await w.browser("alice");
    await signIn(alice, w.url);
    bob = await w.browser("bob");
    await signIn(bob, w.url);
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
    await w?.stop();
  });

  test("each user sees only the repositories GitHub lists for them", async () => {
    const shop = await w.push({ branch: "seen" });
    const tools = await w.push({ repo: TOOLS, branch: "seen-tools" });
    const secret = await w.push({ repo: { owner: "octo-org", repo: "secret", installationId: 77 }, branch: "hidden" });
    await alice.page.goto(`${w.url}/builds`);
    const aliceRows = (await rowsText(alice.page)).join("\n");
    assert.match(aliceRows, /octo-org\/shop/);
    assert.match(aliceRows, /other-org\/tools/);
    assert.doesNotMatch(aliceRows, /octo-org\/secret/, "in her installation, but GitHub does not list it for her");
    await bob.page.goto(`${w.url}/builds`);
    const bobRows = (await rowsText(bob.page)).join("\n");
    assert.match(bobRows, /octo-org\/shop/);
    assert.doesNotMatch(bobRows, /other-org\/tools|octo-org\/secret/);
    for (const id of [secret.id, tools.id]) {
      const res = await bob.page.goto(`${w.url}/builds/${id}`);
      assert.equal(res?.status(), 404);
    }
    assert.equal((await bob.page.goto(`${w.url}/builds/${shop.id}`))?.status(), 200);
    assert.ok(w.h.fake.calls.some((c) => c.operationId === "apps/list-installation-repos-for-authenticated-user" && c.auth === "user"));
    assert.deepEqual(w.h.fake.unknownCalls(), []);
  });

  test("the first page of the list takes in a new build without a reload; an older page stays as it was", async () => {
    await alice.page.goto(`${w.url}/builds`);
    // Runs in the page: a global that survives only as long as the page does.
    const marker = await alice.page.evaluate("globalThis.kept = 42");
    const fresh = await w.push({ branch: "arrives-later" });
    await alice.page.locator("table.builds tbody tr", { hasText: "arrives-later" }).waitFor({ timeout: 15_000 });
    assert.equal(await alice.page.evaluate("globalThis.kept"), marker, "the same page: no reload");
    assert.equal(await alice.page.locator(`a[href="/builds/${fresh.id}"]`).count(), 1, "shown once");
    assert.equal(await alice.page.locator("#build-list[data-live=\"1\"]").count(), 1);
    await alice.page.goto(`${w.url}/builds?page=2`);
    assert.equal(await alice.page.locator("#build-list[data-live=\"1\"]").count(), 0, "page 2 is not live");
    assert.equal(await alice.page.locator('script[src="/static/build-list.js"]').count(), 0);
  });

  test("a running build's log streams into the open page before the build ends", async () => {
    const first = gate();
    const second = gate();
    const sha = w.h.fake.commit({ owner: "octo-org", repo: "shop", branch: "live", files: { "live.txt": "1\n" } });
    w.scripts.set(sha, { steps: [{ lines: ["compiling step one"], gate: first.promise }, { lines: ["compiling step two"], gate: second.promise }, { lines: ["all done here"] }] });
    await w.h.send("push", w.h.pushPayload({ sha, branch: "live" }));
    const build = await until(() => w.h.app.store.latestBuildForSha("octo-org", "shop", sha, true), "the build");
    await alice.page.goto(`${w.url}/builds/${build.id}`);
    const log = alice.page.locator("#log");
    await log.getByText("compiling step one").waitFor();
    first.release();
    await log.getByText("compiling step two").waitFor();
    await alice.page.locator("#build-state", { hasText: "running" }).waitFor();
    assert.equal((await w.h.app.store.getBuild(build.id))?.state, "running", "the line arrived while the build was still running");
    if (SHOTS) await shoot(alice.page, "build-live.png", "dark");
    second.release();
    await log.getByText("all done here").waitFor();
    await alice.page.locator("#build-state", { hasText: "success" }).waitFor();
    assert.equal(await alice.page.locator("#log span", { hasText: "compiling step one" }).count(), 1, "no line shown twice");
    await alice.page.getByLabel("Find").fill("COMPILING");
    await alice.page.getByText("2 matching lines").waitFor();
    assert.equal(await alice.page.locator("#log span.hit").count(), 2);
  });

  test("a writer rebuilds and cancels; a reader is shown no buttons and refused if they post anyway", async () => {
    const done = await w.push({ branch: "actions" });
    await until(async () => (await w.h.app.store.getBuild(done.id))?.state === "completed", "the build to end");
    await alice.page.goto(`${w.url}/builds/${done.id}`);
    await alice.page.getByRole("button", { name: "Rebuild" }).click();
    await alice.page.getByText("A new build was queued.").waitFor();
    const newId = decodeURIComponent(new URL(alice.page.url()).pathname.split("/").pop()!);
    assert.notEqual(newId, done.id);
    const rebuilt = (await w.h.app.store.getBuild(newId))!;
    assert.deepEqual([rebuilt.request.sha, rebuilt.request.trigger, rebuilt.request.requestedBy, rebuilt.attempt], [done.request.sha, "dashboard", "alice", done.attempt + 1]);

    const sha = w.h.fake.commit({ owner: "octo-org", repo: "shop", branch: "stuck", files: { "s.txt": "1\n" } });
    w.scripts.set(sha, { steps: [{ lines: ["waiting for ever"] }], hang: true });
    await w.h.send("push", w.h.pushPayload({ sha, branch: "stuck" }));
    const stuck = await until(() => w.h.app.store.latestBuildForSha("octo-org", "shop", sha, true), "the build");
    await until(async () => (await w.h.app.store.getBuild(stuck.id))?.state === "running", "it to run");

    await bob.page.goto(`${w.url}/builds/${stuck.id}`);
    assert.equal(await bob.page.getByRole("button", { name: /Rebuild|Cancel/ }).count(), 0);
    await bob.page.getByText("need write access").waitFor();
    const csrf = await bob.page.locator('input[name="_csrf"]').first().inputValue();
    for (const action of ["cancel", "rebuild"]) {
      const res = await bob.page.request.post(`${w.url}/builds/${stuck.id}/${action}`, { form: { _csrf: csrf }, maxRedirects: 0 });
      assert.equal(res.status(), 403, `${action} by a reader`);
      assert.match(await res.text(), /needs write access/);
    }
    assert.ok(w.h.fake.calls.some((c) => c.operationId === "repos/get-collaborator-permission-level" && c.path.endsWith("/bob/permission")));
    assert.equal((await w.h.app.store.getBuild(stuck.id))?.state, "running");

    await alice.page.goto(`${w.url}/builds/${stuck.id}`);
    await alice.page.getByRole("button", { name: "Cancel" }).click();
    await until(async () => (await w.h.app.store.getBuild(stuck.id))?.conclusion === "cancelled", "the build to be cancelled");
  });

  test("without JavaScript the pages still show the log, filter, and rebuild", async () => {
    const done = await w.push({ branch: "nojs", message: "no scripts here" });
    await until(async () => (await w.h.app.store.getBuild(done.id))?.state === "completed", "the build to end");
    const plain = await w.browser("alice", { javaScript: false });
    try {
      const page = await signIn(plain, w.url);
      await page.getByLabel("Branch").fill("nojs");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.waitForURL(/branch=nojs/);
      await page.getByRole("link", { name: "success" }).click();
      await page.waitForURL(`${w.url}/builds/${done.id}`);
      const stored = await w.h.app.store.readLog(done.id);
      assert.ok((await page.locator("#log").innerText()).includes(stored.at(-1)!.text), "the log is in the page itself");
      assert.equal(await page.locator("button[data-copy]").count(), 2);
      assert.equal(await page.locator("button[data-copy]:visible").count(), 0, "copy buttons need the script");
      assert.ok(await page.locator("#log .ts").first().isHidden());
      await page.getByRole("link", { name: "Show timestamps" }).click();
      await page.waitForURL(/timestamps=1/);
      assert.ok(await page.locator("#log .ts").first().isVisible(), "?timestamps=1 shows them with no script");
      await page.getByRole("button", { name: "Rebuild" }).click();
      await page.getByText("A new build was queued.").waitFor();
    } finally {
      await plain.close();
    }
  });

  test("a log and a commit message full of HTML and terminal escapes render as text", async () => {
    const hostile = `<img src=x onerror="window.__xss=1">"'<script>window.__xss=2</script>`;
    const more = gate();
    const sha = w.h.fake.commit({ owner: "octo-org", repo: "shop", branch: "xss", files: { "x.txt": "1\n" }, message: hostile });
    w.scripts.set(sha, {
      steps: [
        { lines: ["\u001b[31m<script>window.__xss=3</script>\u001b[0m plain", `<img src=x onerror="window.__xss=4">`], gate: more.promise },
        { lines: [`<svg onload="window.__xss=5"></svg> live & "quoted"`, "\u001b]8;;https://evil.test\u0007link\u001b]8;;\u0007 osc", "\u001b[1;38;5;46m<b onclick=\"window.__xss=6\">live bold</b>\u001b[0m after"] },
      ],
    });
    const payload = w.h.pushPayload({ sha, branch: "xss" });
    payload.head_commit = { ...(payload.head_commit ?? {}), id: sha, message: `\u001b[1;31m${hostile}\u001b[0m\u001b]8;;https://evil.test\u0007\nsecond line` };
    await w.h.send("push", payload);
    const build = await until(() => w.h.app.store.latestBuildForSha("octo-org", "shop", sha, true), "the build");
    await until(async () => (await w.h.app.store.readLog(build.id)).some((l) => l.text.includes("__xss=4")), "the first lines stored");
    const page = alice.page;
    await page.goto(`${w.url}/builds/${build.id}`);
    more.release();
    await page.locator("#log").getByText("live & \"quoted\"").waitFor();
    const log = await page.locator("#log").innerText();
    assert.match(log, /<script>window\.__xss=3<\/script> plain/);
    assert.match(log, /<img src=x onerror="window\.__xss=4">/);
    assert.match(log, /<svg onload="window\.__xss=5"><\/svg> live/);
    assert.doesNotMatch(log, /\u001b|\[31m|\]8;;/, "terminal escapes are gone, not shown");
    const message = await page.locator(".msg").first().innerText();
    assert.ok(message.includes(hostile), "the commit message, as text");
    assert.doesNotMatch(message, /\u001b|\[1;31m|\]8;;|second line/, "its escapes gone, its first line only");
    assert.equal(await page.locator("main img, main svg, main script").count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);

    // Colours: the page's own lines and the live ones, each a span of known classes holding text.
    assert.equal(await page.locator("#log span.ansi-fg-1").innerText(), "<script>window.__xss=3</script>");
    await page.locator("#log span.ansi-bold.ansi-fg-10").waitFor();
    assert.equal(await page.locator("#log span.ansi-bold.ansi-fg-10").innerText(), `<b onclick="window.__xss=6">live bold</b>`);
    assert.equal(await page.locator("#log b").count(), 0);
    const colour = (e: unknown) => (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(e).color;
    assert.notEqual(await page.locator("#log span.ansi-fg-1").evaluate(colour), await page.locator("#log").evaluate(colour), "the class has a colour");

    // Timestamps: hidden, shown by the checkbox for the page's lines and the live ones, and never found.
    const stamps = page.locator("#log .ts");
    assert.ok(await page.locator("#log-ts-link").isHidden(), "the no-script link gives way to the checkbox");
    assert.ok(await stamps.first().isHidden());
    await page.getByLabel("Timestamps").check();
    assert.ok((await stamps.first().isVisible()) && (await stamps.last().isVisible()));
    assert.match(await stamps.last().innerText(), /^\d\d:\d\d:\d\d\.\d{3}\s*$/);
    await page.getByLabel("Find").fill((await stamps.first().innerText()).trim());
    await page.getByText("0 matching lines").waitFor();
    await page.getByLabel("Find").fill("");
    await page.getByLabel("Timestamps").uncheck();
    assert.ok(await stamps.last().isHidden());

    // Copy buttons: shown by the script once the build has an image, and they copy.
    await until(async () => (await w.h.app.store.getBuild(build.id))?.state === "completed", "the build to end");
    await alice.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: w.url });
    await page.goto(`${w.url}/builds/${build.id}`);
    const copyDigest = page.getByRole("button", { name: "Copy digest" });
    assert.ok((await page.getByRole("button", { name: "Copy image reference" }).isVisible()) && (await copyDigest.isVisible()));
    await copyDigest.focus();
    await page.keyboard.press("Enter");
    await page.locator("#copy-status", { hasText: "Copied" }).waitFor();
    const digest = (await w.h.app.store.getBuild(build.id))?.outcome?.image?.digest;
    assert.equal(await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText()), digest);
    await page.goto(`${w.url}/builds?branch=xss`);
    assert.ok((await rowsText(page)).join("\n").includes(hostile));
    assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator("main img, main script").count(), 0);
  });

  test("filters, pagination, and the log's download", async () => {
    const page = alice.page;
    if (SHOTS) {
      await until(async () => (await w.h.app.store.countByState()).running === undefined && (await w.h.app.store.countByState()).queued === undefined, "every build to end");
      await page.goto(`${w.url}/builds`);
      await shoot(page, "builds-list.png", "light");
    }
    const t0 = Date.now();
    for (let i = 0; i < 27; i++) {
      await w.h.app.store.submit(buildRequest({ ...TOOLS, sha: String(i).padStart(2, "0").repeat(20), branch: `p-${String(i).padStart(2, "0")}`, requestedBy: "tester" }), t0 + i);
    }
    await page.goto(`${w.url}/builds`);
    await page.getByLabel("Repository").selectOption("other-org/tools");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/repo=other-org%2Ftools/);
    const first = await rowsText(page);
    assert.equal(first.length, 25);
    assert.ok(first.every((r) => r.includes("other-org/tools")));
    assert.match(first[0]!, /p-26/, "newest first");
    await page.getByRole("link", { name: "Older" }).click();
    await page.waitForURL(/page=2/);
    const second = await rowsText(page);
    const total = (await w.h.app.store.listBuilds({ repos: ["other-org/tools"], limit: 100, offset: 0 })).length;
    assert.equal(second.length, total - 25, "the rest on page 2");
    assert.ok(second.every((r) => !first.includes(r)));
    assert.match(page.url(), /repo=other-org%2Ftools/, "the filter stays on the next page");

    await page.goto(`${w.url}/builds`);
    await page.getByLabel("Branch").fill("p-03");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/branch=p-03/);
    assert.equal((await rowsText(page)).length, 1);
    await page.getByLabel("Branch").fill("");
    await page.getByLabel("PR").fill("12345");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/pr=12345/);
    await page.getByText("No builds match these filters").waitFor();

    const done = await w.push({ branch: "download" });
    await until(async () => (await w.h.app.store.getBuild(done.id))?.state === "completed", "the build to end");
    await page.goto(`${w.url}/builds/${done.id}`);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download" }).click()]);
    const text = readFileSync((await download.path())!, "utf8");
    const stored = await w.h.app.store.readLog(done.id);
    assert.ok(stored.length > 0);
    assert.equal(text, stored.map((l) => `${l.text}\n`).join(""));
    assert.equal(download.suggestedFilename(), `build-${done.id}.log`);
  });
});

async function shoot(page: Page, name: string, scheme: "light" | "dark"): Promise<void> {
  mkdirSync(SHOTS!, { recursive: true });
  await page.emulateMedia({ colorScheme: scheme });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: new URL(name, SHOTS!).pathname });
}
