/**
 * The deployments and health pages, and the builds list's commit messages and app names, in
 * Chromium. Deploys go through the real pipeline and the HypemanDeployer into the Hypeman fake.
 * MICROSHIP_SCREENSHOTS=1 saves both pages in docs/screenshots/.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { HypemanDeployer } from "../../../src/deploy/hypeman/hypeman-deployer.ts";
import { emptyOutcome } from "../../../src/core/build.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { ScriptedBuilder } from "../../helpers/pipeline-doubles.ts";
import { buildRequest } from "../../helpers/build-requests.ts";
import { startWorld, until, TOOLS, type World } from "./dashboard-world.ts";
import { fakeDeployments } from "../../fakes/github/deployment-handlers.ts";

const SHOTS = process.env.MICROSHIP_SCREENSHOTS === "1" ? new URL("../../../docs/screenshots/", import.meta.url) : null;
const SECRET = { owner: "octo-org", repo: "secret", installationId: 77 };
type Browser = Awaited<ReturnType<World["browser"]>>;

async function signIn(b: Browser, url: string): Promise<Page> {
  await b.page.goto(`${url}/`);
  await b.page.getByRole("link", { name: "Sign in with GitHub" }).click();
  await b.page.waitForURL(`${url}/builds`);
  return b.page;
}

/** Posts the teardown (or rollback) form as a page of this session would, for a row the page does not offer. */
async function postTeardown(page: Page, url: string, instance: string, action = "teardown"): Promise<number> {
  const csrf = await page.locator("form[action='/logout'] input[name=_csrf]").getAttribute("value");
  const res = await page.request.post(`${url}/deployments/${action}`, { form: { _csrf: csrf!, instance }, maxRedirects: 0 });
  return res.status();
}

describe("deployments, health and the list's details in Chromium", { timeout: 120_000 }, () => {
  let fake: HypemanFake;
  let w: World;
  let alice: Browser;
  let bob: Browser;
  let deployer: HypemanDeployer;
  const instanceOf = (repo: string, slug: string): string | false => [...fake.deploy.instances.values()].find((i) => i.name.includes(`${repo}-${slug}`))?.name ?? false;

  /** What the deploy stage would start, straight through the deployer (the stage has its own tests). */
  async function deploy(where: { owner: string; repo: string; installationId: number }, slug: string): Promise<string> {
    const target = slug.startsWith("pr-")
      ? { kind: "preview" as const, environment: `preview/${slug}`, slug, transient: true, production: false }
      : { kind: "environment" as const, environment: slug, slug, transient: false, production: true };
    const digest = `sha256:${"e".repeat(64)}`;
    const result = await deployer.deploy({
      ...where, app: null, target, sha: "a".repeat(40), expiresAt: target.transient ? new Date(Date.now() + 86_400_000) : null, idleMinutes: null,
      imageRef: `registry.test/${where.owner}/${where.repo}@${digest}`, digest, port: 3000, health: "/", env: {}, signal: AbortSignal.timeout(20_000), log: () => {},
    });
    return result.instance;
  }

  before(async () => {
    fake = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest: `sha256:${"e".repeat(64)}` })), registry: "registry.test" });
    deployer = new HypemanDeployer({ baseURL: fake.url, apiKey: fake.token(), domain: "preview.test", pollMs: 5, healthTimeoutMs: 10_000, imageTimeoutMs: 10_000 });
    w = await startWorld({}, { deployer });
    alice = await w.browser("alice");
    await signIn(alice, w.url);
    bob = await w.browser("bob");
    await signIn(bob, w.url);
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
    await w?.stop();
    await fake?.close();
  });

  test("each user sees only permitted repositories' deployments; a writer tears one down, a reader is refused", async () => {
    // Two builds for the list and the charts, on branches that deploy nowhere; they run meanwhile.
    await w.push({ branch: "ship", message: "Ship the shop" });
    await w.push({ repo: TOOLS, branch: "tools-work" });
    const preview = await deploy({ owner: "octo-org", repo: "shop", installationId: 77 }, "pr-5");
    const production = await deploy({ owner: "octo-org", repo: "shop", installationId: 77 }, "production");
    const secret = await deploy(SECRET, "production");
    await deploy(TOOLS, "production");

    await alice.page.goto(`${w.url}/deployments`);
    const aliceRows = (await alice.page.locator("table.deployments tbody tr").allInnerTexts()).join("\n");
    assert.match(aliceRows, /octo-org\/shop[\s\S]*preview\/pr-5/);
    assert.match(aliceRows, /octo-org\/shop[\s\S]*production/);
    assert.match(aliceRows, /other-org\/tools/);
    assert.match(aliceRows, new RegExp(`http://${preview}\\.preview\\.test`));
    assert.doesNotMatch(aliceRows, /octo-org\/secret/, "in her installation, but GitHub does not list it for her");
    await bob.page.goto(`${w.url}/deployments`);
    const bobRows = (await bob.page.locator("table.deployments tbody tr").allInnerTexts()).join("\n");
    assert.match(bobRows, /octo-org\/shop/);
    assert.doesNotMatch(bobRows, /other-org\/tools|octo-org\/secret/);
    assert.equal(await bob.page.getByRole("button", { name: /Tear down/ }).count(), 0, "a reader is offered no button");

    assert.equal(await postTeardown(bob.page, w.url, production), 403, "a reader posting anyway is refused");
    assert.equal(await postTeardown(alice.page, w.url, secret), 404, "a repository she cannot see is not there");
    assert.equal(await postTeardown(alice.page, w.url, "../../etc"), 404);
    const res = await alice.page.request.post(`${w.url}/deployments/teardown`, { form: { _csrf: "not-the-session's", instance: preview }, maxRedirects: 0 });
    assert.equal(res.status(), 403, "a form without the session's CSRF token is refused");
    assert.ok(instanceOf("shop", "production") && instanceOf("secret", "production") && instanceOf("shop", "pr-5"), "nothing was removed");

    if (SHOTS) await shoot(alice.page, "deployments.png", "light");
    const inactiveBefore = w.h.fake.calls.filter((c) => c.operationId === "repos/list-deployments").length;
    // By keyboard alone: Tab reaches the button, which shows its focus, and Enter presses it.
    const button = alice.page.getByRole("button", { name: "Tear down preview/pr-5 of octo-org/shop" });
    const focused = () => button.evaluate((el: any) => el === el.ownerDocument.activeElement);
    for (let i = 0; i < 60 && !(await focused()); i++) await alice.page.keyboard.press("Tab");
    assert.ok(await focused(), "the button is reachable with Tab");
    assert.equal(await button.evaluate((el: any) => el.ownerDocument.defaultView.getComputedStyle(el).outlineStyle), "solid", "and shows where the focus is");
    await alice.page.keyboard.press("Enter");
    await alice.page.getByText("Torn down.").waitFor();
    assert.equal(instanceOf("shop", "pr-5"), false, "the preview's instance is gone");
    assert.ok(instanceOf("shop", "production"), "the environment is left");
    assert.doesNotMatch((await alice.page.locator("main").innerText()), /preview\/pr-5/);
    assert.ok(w.h.fake.calls.filter((c) => c.operationId === "repos/list-deployments").length > inactiveBefore, "GitHub's preview deployments were looked up to go inactive");
    assert.deepEqual(w.h.fake.unknownCalls(), []);
  });

  test("a writer puts a preview to sleep and wakes it from the page; a reader, a forged form, a hidden repository and a deployer without them get no sleep", async () => {
    const preview = await deploy({ owner: "octo-org", repo: "shop", installationId: 77 }, "pr-8");
    const stateOf = () => [...fake.deploy.instances.values()].find((i) => i.name === preview)?.state;
    await bob.page.goto(`${w.url}/deployments`);
    assert.equal(await bob.page.getByRole("button", { name: /^Sleep / }).count(), 0, "a reader is offered no Sleep");
    assert.equal(await postTeardown(bob.page, w.url, preview, "sleep"), 403, "a reader posting anyway is refused");
    const forged = await alice.page.request.post(`${w.url}/deployments/sleep`, { form: { _csrf: "not-the-session's", instance: preview }, maxRedirects: 0 });
    assert.equal(forged.status(), 403, "a form without the session's CSRF token is refused");
    assert.equal(await postTeardown(alice.page, w.url, instanceOf("secret", "production") as string, "sleep"), 404, "a repository she cannot see is not there");
    assert.equal(stateOf(), "Running", "nothing slept from the refused posts");

    const row = () => alice.page.locator("table.deployments tbody tr", { hasText: "preview/pr-8" });
    await alice.page.goto(`${w.url}/deployments`);
    await alice.page.getByRole("button", { name: "Sleep preview/pr-8 of octo-org/shop" }).click();
    await alice.page.getByText("Put to sleep.").waitFor();
    assert.equal(stateOf(), "Standby");
    assert.match(await row().innerText(), /sleeping/);
    assert.equal(await row().getByRole("button", { name: /^Sleep / }).count(), 0, "a sleeping one offers Wake, not Sleep");
    assert.equal(await postTeardown(bob.page, w.url, preview, "wake"), 403, "a reader can't wake it either");
    await row().getByRole("button", { name: "Wake preview/pr-8 of octo-org/shop" }).click();
    await alice.page.getByText("Woken up.").waitFor();
    assert.equal(stateOf(), "Running");
    assert.match(await row().innerText(), /running/);

    // A deployer without sleep and wake: no buttons, and a post finds nothing to do.
    (deployer as unknown as Record<string, unknown>).sleep = undefined;
    try {
      await alice.page.goto(`${w.url}/deployments`);
      assert.equal(await alice.page.getByRole("button", { name: /^(Sleep|Wake) / }).count(), 0);
      assert.ok(await alice.page.getByRole("button", { name: "Tear down preview/pr-8 of octo-org/shop" }).count(), "the page is there all the same");
      assert.equal(await postTeardown(alice.page, w.url, preview, "sleep"), 404);
    } finally {
      delete (deployer as unknown as Record<string, unknown>).sleep;
    }
    assert.equal(stateOf(), "Running");
  });

  test("the builds list shows commit messages and a multi-app build's apps", async () => {
    const multi = await w.h.app.store.submit(buildRequest({ owner: "octo-org", repo: "shop", installationId: 77, sha: "f".repeat(40), branch: "apps", commitMessage: "Split the shop into api and web" }));
    assert.equal(multi.kind, "created");
    const apps = [{ name: "api", conclusion: "success" as const }, { name: "web", conclusion: "failure" as const }];
    if (multi.kind === "created") await w.h.app.store.complete(multi.build.id, "failure", { ...emptyOutcome("failure", "1 of 2 apps built"), apps });
    await alice.page.goto(`${w.url}/builds?branch=apps`);
    const row = alice.page.locator("table.builds tbody tr").first();
    assert.match(await row.innerText(), /Split the shop into api and web/);
    assert.deepEqual(await row.locator("ul.apps li").allInnerTexts(), ["api", "web"]);
    await alice.page.goto(`${w.url}/builds?branch=ship`);
    assert.match(await alice.page.locator("table.builds tbody").innerText(), /Ship the shop/, "the message the push carried");

    // A pull_request event carries no commit message: the checkout reads it, cleaned and cut to its first line, shown as text.
    const prSha = w.h.fake.commit({ owner: "octo-org", repo: "shop", branch: "tidy", files: { "cart.txt": "tidy\n", ".github/microship.yml": "deploy:\n  preview: { enabled: false }\n" }, message: "\u001b[31m<i>Tidy</i> the cart\u001b[0m & checkout\n\nThe body stays on GitHub." });
    await w.h.send("pull_request", w.h.prPayload({ action: "opened", number: 12, sha: prSha, headRef: "tidy" }));
    await until(async () => (await w.h.app.store.latestBuildForSha("octo-org", "shop", prSha, true))?.request.commitMessage, "the PR build's message");
    await alice.page.goto(`${w.url}/builds?pr=12`);
    const prRow = alice.page.locator("table.builds tbody tr").first();
    assert.equal(await prRow.locator(".msg").innerText(), "<i>Tidy</i> the cart & checkout");
    assert.equal(await prRow.locator("i").count(), 0, "never markup");
  });

  test("the health page shows the queue, the builder, the version, disk use and two SVG charts", async () => {
    await until(async () => {
      const counts = await w.h.app.store.countByState();
      return counts.running === undefined && counts.queued === undefined;
    }, "every build to end");
    const page = alice.page;
    await page.goto(`${w.url}/health`);
    const version = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
    assert.equal(await page.locator("#version").innerText(), version);
    assert.match(await page.locator("#queued").innerText(), /^\d+$/);
    assert.equal(await page.locator("#running").innerText(), "0");
    assert.match(await page.locator("#builder").innerText(), /\S/);
    if (!(await page.locator("table.disk").count())) await page.reload();
    assert.match(await page.locator("table.disk").innerText(), /Database and logs \(SQLite\)\s+[\d.]+ (B|KiB|MiB)/);
    const charts = page.locator("main svg.chart");
    assert.equal(await charts.count(), 2);
    assert.ok((await charts.nth(0).locator("circle").count()) === 3, "a dot per finished build (the two pushes, the pull request)");
    const bars = await charts.nth(1).locator("text.label").allTextContents();
    assert.ok(bars.includes("octo-org/shop") && bars.includes("other-org/tools"));
    assert.ok(!bars.includes("octo-org/secret"), "the charts show only what she may see");
    if (SHOTS) await shoot(page, "health.png", "dark");
    await bob.page.goto(`${w.url}/health`);
    assert.ok(!(await bob.page.locator("main svg.chart").nth(1).locator("text.label").allTextContents()).includes("other-org/tools"));
  });

  test("a writer rolls production back to the first push's image from the page; a reader and a forged form are refused", async () => {
    const shop = (i: { name?: unknown }) => String(i.name).includes("shop-production");
    const serving = () => [...fake.deploy.instances.values()].filter(shop);
    const production = () => fakeDeployments(w.h.fake.state).filter((d) => d.environment === "production");
    const done = (n: number) => until(async () => production().length >= n && production().slice(0, n).every((d) => d.statuses.some((st) => ["success", "failure", "error"].includes(st.state))), `${n} production deploys`);
    const config = { ".github/microship.yml": "deploy:\n  env: { FROM: base }\n  release: ./migrate\n" };
    const first = await w.push({ branch: "main", message: "First", files: { ...config, "index.js": "one\n" } });
    await done(1);
    const second = await w.push({ branch: "main", message: "Second", files: { ...config, "index.js": "two\n" } });
    await done(2);
    const digestOf = (sha: string) => sha.padEnd(64, "d");
    await until(async () => serving().length === 1 && serving()[0]!.image.endsWith(digestOf(second.request.sha)), "the second image to serve alone");
    const instance = serving()[0]!.name;

    await bob.page.goto(`${w.url}/deployments`);
    assert.equal(await bob.page.getByRole("button", { name: /Roll back/ }).count(), 0, "a reader is offered no Roll back");
    assert.equal(await postTeardown(bob.page, w.url, instance, "rollback"), 403, "a reader posting anyway is refused");
    const forged = await alice.page.request.post(`${w.url}/deployments/rollback`, { form: { _csrf: "not-the-session's", instance }, maxRedirects: 0 });
    assert.equal(forged.status(), 403, "a form without the session's CSRF token is refused");
    assert.equal(await postTeardown(alice.page, w.url, instanceOf("secret", "production") as string, "rollback"), 404, "a repository she cannot see is not there");
    assert.equal(await postTeardown(alice.page, w.url, "../../etc", "rollback"), 404);
    assert.equal(production().length, 2, "nothing was deployed by the refused posts");

    const created = fake.deploy.created.length;
    await alice.page.goto(`${w.url}/deployments`);
    await alice.page.getByRole("button", { name: "Roll back production of octo-org/shop" }).click();
    await alice.page.getByRole("heading", { name: "Rolled back" }).waitFor();
    assert.match(await alice.page.locator("main").innerText(), new RegExp(`back to ${first.request.sha.slice(0, 12)}, serving at http://`));
    await until(async () => serving().length === 1 && serving()[0]!.image.endsWith(digestOf(first.request.sha)), "the first image to serve again");
    const [release, app] = fake.deploy.created.slice(created);
    assert.deepEqual([release?.cmd, release?.image], [["./migrate"], serving()[0]!.image], "a rollback is a new release: its image's release command runs first");
    assert.ok(app && shop(app), "then the app's instance");
    const latest = production().at(-1)!;
    assert.equal(production().length, 3, "GitHub got a new deployment");
    assert.equal(latest.sha, first.request.sha);
    assert.equal((latest.body.payload as { rollback?: boolean }).rollback, true);
    assert.ok(latest.statuses.some((st) => st.state === "success"), "and it succeeded");
    assert.equal(serving()[0]!.env.FROM, "base", "the old image runs with the default branch's settings");

    // A second step back finds nothing: rollback deploys are skipped, and the first push is the oldest.
    await alice.page.goto(`${w.url}/deployments`);
    await alice.page.getByRole("button", { name: "Roll back production of octo-org/shop" }).click();
    await alice.page.getByRole("heading", { name: "Nothing rolled back" }).waitFor();
    assert.match(await alice.page.locator("main").innerText(), /no earlier image to go back to/);
    assert.equal(production().length, 3);
    assert.deepEqual(w.h.fake.unknownCalls(), []);
  });

  test("a writer redeploys production's image on a fresh instance with the config changed since; a reader and a forged form are refused", async () => {
    const serving = () => [...fake.deploy.instances.values()].filter((i) => String(i.name).includes("shop-production"));
    const production = () => fakeDeployments(w.h.fake.state).filter((d) => d.environment === "production");
    const [old] = serving();
    assert.ok(old && serving().length === 1, "the rollback left one instance serving");
    const count = production().length;
    // The default branch's config changes without a deploy: a redeploy picks it up.
    w.h.fake.commit({ owner: "octo-org", repo: "shop", branch: "main", files: { ".github/microship.yml": "deploy:\n  env: { FROM: changed }\n  release: ./migrate\n" } });
    const created = fake.deploy.created.length;

    await bob.page.goto(`${w.url}/deployments`);
    assert.equal(await bob.page.getByRole("button", { name: /Redeploy/ }).count(), 0, "a reader is offered no Redeploy");
    assert.equal(await postTeardown(bob.page, w.url, old.name, "redeploy"), 403, "a reader posting anyway is refused");
    const forged = await alice.page.request.post(`${w.url}/deployments/redeploy`, { form: { _csrf: "not-the-session's", instance: old.name }, maxRedirects: 0 });
    assert.equal(forged.status(), 403, "a form without the session's CSRF token is refused");
    assert.equal(await postTeardown(alice.page, w.url, instanceOf("secret", "production") as string, "redeploy"), 404, "a repository she cannot see is not there");
    assert.equal(production().length, count, "nothing was deployed by the refused posts");

    await alice.page.goto(`${w.url}/deployments`);
    await alice.page.getByRole("button", { name: "Redeploy production of octo-org/shop" }).click();
    await alice.page.getByRole("heading", { name: "Redeployed" }).waitFor();
    assert.match(await alice.page.locator("main").innerText(), new RegExp(`runs ${old.tags["microship-sha"].slice(0, 12)} on a fresh instance, serving at http://`));
    await until(async () => serving().length === 1 && serving()[0]!.name !== old.name, "the fresh instance to serve alone");
    const [fresh] = serving();
    assert.equal(fresh!.image, old.image, "the same image, by digest");
    assert.equal(fresh!.env.FROM, "changed", "with the default branch's config as it is now");
    assert.deepEqual(fake.deploy.created.slice(created).map((c) => c.cmd ?? null), [null], "a redeploy is a restart: no release command runs");
    assert.equal(production().length, count + 1, "GitHub got a new deployment");
    const latest = production().at(-1)!;
    assert.equal(latest.sha, old.tags["microship-sha"]);
    assert.equal((latest.body.payload as { redeploy?: boolean }).redeploy, true);
    assert.deepEqual(latest.statuses.map((st) => st.state).filter((st) => st !== "inactive"), ["queued", "in_progress", "success"]);
    assert.deepEqual(w.h.fake.unknownCalls(), []);
  });
});

async function shoot(page: Page, name: string, scheme: "light" | "dark"): Promise<void> {
  mkdirSync(SHOTS!, { recursive: true });
  await page.emulateMedia({ colorScheme: scheme });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: new URL(name, SHOTS!).pathname });
}
