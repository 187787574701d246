/**
 * GitHub's `deployment` event through the whole app: a real signed payload from
 * @octokit/webhooks-examples, the GitHub fake (every request checked against GitHub's OpenAPI)
 * and the HypemanDeployer on the Hypeman fake. A deployment someone made on GitHub deploys the
 * image microship built of its sha, with statuses on that deployment; microship's own are ignored.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, OWNER, REPO, INSTALLATION, type Harness } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, namer, plan } from "../../helpers/pipeline-doubles.ts";
import type { Planner } from "../../../src/core/ports.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { fakeDeployments, type FakeDeployment } from "../../fakes/github/deployment-handlers.ts";
import { loadExample, withRepo } from "../../fakes/webhooks.ts";
import { HypemanDeployer } from "../../../src/deploy/hypeman/hypeman-deployer.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

let h: Harness;
let hypeman: HypemanFake;
let builds = 0;
const digestOf = (sha: string) => `sha256:${sha.padEnd(64, "0").slice(0, 64)}`;
const SECRET = "deploy-event-secret-0123456789";
const CONFIG = "deploy:\n  env: { FROM: base }\n  secrets: [API_KEY]\n";
// The apps a build plans: one, until the multi-app test plans two (web first, with a Procfile release line).
let apps = [plan()];
const planner: Planner = { plan: async () => apps.map((p) => ({ ok: true as const, plan: p })) };

before(async () => {
  const builder = new ScriptedBuilder(async (input) => {
    builds++;
    return { digest: digestOf(input.tags[0]!) };
  });
  hypeman = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest: digestOf("0") })), registry: "registry.test" });
  const deployer = new HypemanDeployer({ baseURL: hypeman.url, apiKey: hypeman.token(), domain: "preview.test", pollMs: 5, healthTimeoutMs: 5_000, imageTimeoutMs: 5_000 });
  h = await startHarness({ builder, planner, archiver: emptyArchiver, images: namer, deployer, secrets: { secretsFor: async () => [{ id: "API_KEY", value: SECRET }] } });
});

after(async () => {
  await cleanupAll(
    () => assert.deepEqual(h.fake.unknownCalls(), [], "no call outside the OpenAPI subset"),
    () => assert.deepEqual(h.fake.rejectedCalls().map((c) => `${c.method} ${c.path} ${c.status}`), [], "no request rejected by validation"),
    () => assert.ok(!JSON.stringify(h.fake.calls.map((c) => c.body)).includes(SECRET), "no secret sent to GitHub"),
    () => h.stop(),
    () => hypeman.close(),
  );
});

const all = () => fakeDeployments(h.fake.state);
const production = () => all().filter((d) => d.environment === "production");
const serving = () => [...hypeman.deploy.instances.values()].filter((i) => String(i.name).includes("shop-production"));
const ended = (d: FakeDeployment) => ["success", "failure", "error"].includes(d.statuses.at(-1)?.state ?? "");

async function pushMain(content: string): Promise<string> {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { ".github/microship.yml": CONFIG, "index.js": content } });
  await h.send("push", h.pushPayload({ sha, branch: "main" }));
  await h.fake.waitFor(() => production().find((d) => d.sha === sha && ended(d)), 20_000, `the deploy of ${sha.slice(0, 8)}`);
  return sha;
}

/** A deployment as a person makes it on GitHub (UI, API, CLI): in the fake, and its event as GitHub sends it. */
async function deploymentBy(o: { sha: string; environment: string; creator?: Record<string, unknown>; via?: Record<string, unknown> | null; existing?: FakeDeployment }) {
  const d = o.existing ?? { id: h.fake.state.id(), owner: OWNER, repo: REPO, sha: o.sha, ref: o.sha, environment: o.environment, transient: false, production: o.environment === "production", statuses: [], body: {} };
  if (!o.existing) all().push(d);
  const p = withRepo(loadExample("deployment", (e) => Boolean(e.installation) && e.deployment.creator?.type === "User"), { owner: OWNER, repo: REPO, installationId: INSTALLATION });
  Object.assign(p.deployment, { id: d.id, sha: o.sha, ref: o.sha, environment: o.environment, original_environment: o.environment, ...(o.creator ? { creator: { ...p.deployment.creator, ...o.creator } } : {}) });
  if (o.via !== undefined) p.deployment.performed_via_github_app = o.via;
  const res = await h.send("deployment", p);
  assert.equal(res.status, 200);
  return d;
}

/** What microship did in reply to events: nothing more may arrive after the webhook answered. */
const settle = () => new Promise((r) => setTimeout(r, 300));

test("a deployment of an earlier sha made on GitHub deploys that sha's image, with statuses on that very deployment and no new one", async () => {
  const first = await pushMain("one");
  const second = await pushMain("two");
  await h.fake.waitFor(() => serving().length === 1 && serving()[0]!.image.endsWith(digestOf(second)), 10_000, "the second image to serve alone");
  const count = all().length, before = builds;
  const d = await deploymentBy({ sha: first, environment: "production" });
  await h.fake.waitFor(() => ended(d), 20_000, "the deployment's final status");
  assert.deepEqual(d.statuses.map((s) => s.state), ["in_progress", "success"]);
  assert.match(d.statuses[1]!.environment_url ?? "", /^https?:\/\//);
  assert.match(d.statuses[1]!.log_url ?? "", /^http:\/\/microship\.test\//);
  await h.fake.waitFor(() => serving().length === 1 && serving()[0]!.image.endsWith(digestOf(first)) && true, 10_000, "the first image to serve alone");
  assert.equal(serving()[0]!.env.FROM, "base");
  assert.equal(serving()[0]!.env.API_KEY, SECRET, "a push's image keeps its secrets");
  assert.equal(all().length, count + 1, "microship made no deployment of its own for it");
  assert.equal(builds, before, "nothing was rebuilt");
  // The same delivery's redelivery, or another event of that deployment, does not deploy it twice.
  await deploymentBy({ sha: first, environment: "production", existing: d });
  await settle();
  assert.equal(d.statuses.length, 2);
});

test("microship's own deployments are ignored (by app id, or by its bot's login): no loop", async () => {
  const ours = production().filter((d) => d.body.payload);
  assert.ok(ours.length >= 2);
  const statuses = () => all().reduce((n, d) => n + d.statuses.length, 0);
  const count = all().length, before = statuses(), instances = hypeman.deploy.instances.size;
  for (const d of ours) {
    // What GitHub sends for a deployment made with the installation's token.
    await deploymentBy({ sha: d.sha, environment: d.environment, existing: d, creator: { login: "microship[bot]", type: "Bot" }, via: { id: h.creds.appId, slug: "microship" } });
  }
  await deploymentBy({ sha: ours[0]!.sha, environment: "production", existing: ours[0], creator: { login: "microship[bot]", type: "Bot" }, via: null });
  await settle();
  assert.equal(all().length, count);
  assert.equal(statuses(), before, "no status written on our own deployments");
  assert.equal(hypeman.deploy.instances.size, instances);
  assert.ok(h.fake.calls.some((c) => c.operationId === "apps/get-authenticated"), "the bot's login was checked against the app's slug");
});

test("another app's deployment is not taken for ours, and an environment microship does not manage is left alone", async () => {
  const sha = production()[0]!.sha;
  const staging = await deploymentBy({ sha, environment: "staging" });
  const odd = await deploymentBy({ sha, environment: "github-pages!" });
  await settle();
  assert.deepEqual(staging.statuses, [], "staging is not in the config's environments");
  assert.deepEqual(odd.statuses, []);
  const other = await deploymentBy({ sha, environment: "production", creator: { login: "other-deployer[bot]", type: "Bot" }, via: { id: 999_999, slug: "other-deployer" } });
  await h.fake.waitFor(() => ended(other), 20_000, "the other app's deployment to end");
  assert.equal(other.statuses.at(-1)!.state, "success");
});

test("a sha microship has no image of gets a failure status saying so, within GitHub's 140 characters", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "never-built", files: { "index.js": "never built" } });
  const d = await deploymentBy({ sha, environment: "production" });
  await h.fake.waitFor(() => ended(d), 10_000, "the refusal");
  assert.equal(d.statuses.length, 1);
  assert.equal(d.statuses[0]!.state, "failure");
  assert.match(d.statuses[0]!.description ?? "", new RegExp(`no image of ${sha.slice(0, 12)}`));
  assert.ok(d.statuses[0]!.description!.length <= 140);
  const pr = await deploymentBy({ sha, environment: "preview/pr-404" });
  await h.fake.waitFor(() => ended(pr), 10_000, "the refusal of an unknown pull request's preview");
  assert.equal(pr.statuses[0]!.state, "failure");
});

test("a fork's sha goes only to its own pull request's preview, without secrets", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "fork-60", files: { ".github/microship.yml": CONFIG, "index.js": "fork" } });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 60, headSha: sha, headRef: "patch", headRepo: `a-forker/${REPO}` });
  await h.send("pull_request", h.prPayload({ action: "opened", number: 60, sha, headRef: "patch", fork: true }));
  await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.name === "microship" && r.status === "completed"), 20_000, "the fork's build");
  const toProduction = await deploymentBy({ sha, environment: "production" });
  await h.fake.waitFor(() => ended(toProduction), 10_000, "the refusal");
  assert.equal(toProduction.statuses.at(-1)!.state, "failure");
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 61, headSha: sha, headRef: "pr-61" });
  const toOtherPr = await deploymentBy({ sha, environment: "preview/pr-61" });
  await h.fake.waitFor(() => ended(toOtherPr), 10_000, "the refusal of another PR's preview");
  assert.equal(toOtherPr.statuses.at(-1)!.state, "failure");
  const own = await deploymentBy({ sha, environment: "preview/pr-60" });
  await h.fake.waitFor(() => ended(own), 20_000, "the fork's own preview");
  assert.equal(own.statuses.at(-1)!.state, "success");
  const instance = [...hypeman.deploy.instances.values()].find((i) => String(i.name).includes("-pr-60-"))!;
  assert.ok(instance.image.endsWith(digestOf(sha)));
  assert.deepEqual(Object.keys(instance.env).sort(), ["PORT"], "no deploy.env, no secret: only preview.env (none here)");
});

test("with previews turned off in the base branch's config, a preview's deployment is refused, not deployed", async () => {
  h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { ".github/microship.yml": `${CONFIG}  preview: { enabled: false }\n` } });
  const sha = production()[0]!.sha;
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 70, headSha: sha, headRef: "pr-70" });
  const d = await deploymentBy({ sha, environment: "preview/pr-70" });
  await h.fake.waitFor(() => ended(d), 10_000, "the refusal");
  assert.equal(d.statuses.length, 1);
  assert.equal(d.statuses[0]!.state, "failure");
  assert.match(d.statuses[0]!.description ?? "", /previews are turned off/);
  assert.equal([...hypeman.deploy.instances.values()].filter((i) => String(i.name).includes("-pr-70-")).length, 0);
});

test("a deployment made on GitHub of a two-app sha gets one coherent set of statuses: in_progress once, then one ending naming the app that failed", async () => {
  apps = [plan({ app: "web", release: "./web-migrate" }), plan({ app: "api" })];
  const both = async (content: string) => {
    const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { ".github/microship.yml": CONFIG, "index.js": content } });
    await h.send("push", h.pushPayload({ sha, branch: "main" }));
    // The second app's success may mark the first's deployment inactive (auto_inactive): it did end.
    const deployed = (d: FakeDeployment) => d.statuses.some((st) => ["success", "failure", "error"].includes(st.state));
    await h.fake.waitFor(() => production().filter((d) => d.sha === sha && deployed(d)).length === 2, 30_000, `both apps' deploys of ${sha.slice(0, 8)}`);
    return sha;
  };
  const first = await both("apps one");
  const second = await both("apps two");
  const running = (app: string) => serving().filter((i) => String(i.name).startsWith(`${app}-`)).map((i) => String(i.image));
  const count = all().length;

  hypeman.deploy.faults.commands.set("./web-migrate", { exitCode: 3, output: ["web's migration failed"] });
  const broken = await deploymentBy({ sha: first, environment: "production" });
  await h.fake.waitFor(() => ended(broken), 20_000, "the two-app deployment's ending");
  assert.deepEqual(broken.statuses.map((s) => s.state), ["in_progress", "failure"], "one status per step, not one per app");
  assert.equal(broken.statuses[1]!.description, "Deploy failed for web; deployed: api");
  assert.equal(broken.statuses[1]!.environment_url, null);
  await h.fake.waitFor(() => running("api").length === 1 && running("api")[0]!.endsWith(digestOf(first)), 10_000, "api on the first sha");
  assert.ok(running("web").every((i) => i.endsWith(digestOf(second))), "web's release failed: its serving version keeps serving");

  hypeman.deploy.faults.commands.set("./web-migrate", { exitCode: 0, output: ["migrated"] });
  const fixed = await deploymentBy({ sha: first, environment: "production" });
  await h.fake.waitFor(() => ended(fixed), 20_000, "the second two-app deployment's ending");
  assert.deepEqual(fixed.statuses.map((s) => [s.state, s.description]), [["in_progress", "Deploying"], ["success", "Ready: all 2 apps deployed"]]);
  const webUrl = production().find((d) => d.sha === first && (d.body.payload as { app?: string })?.app === "web")!.statuses.find((s) => s.state === "success")!.environment_url;
  assert.ok(webUrl);
  assert.equal(fixed.statuses[1]!.environment_url, webUrl, "the first planned app's URL");
  assert.equal(all().length, count + 2, "no deployment of microship's own for either app");
  apps = [plan()];
});

test("two apps deploying to a non-production environment: a push retires only each app's own earlier deployment, never the other app's", async () => {
  apps = [plan({ app: "web" }), plan({ app: "api" })];
  const config = "deploy:\n  environments: { staging: { branch: main } }\n";
  const appOf = (d: FakeDeployment) => (d.body.payload as { app?: string })?.app;
  // An earlier test made a `staging` deployment of someone else's: only microship's own are looked at.
  const staging = () => all().filter((d) => d.environment === "staging" && appOf(d));
  const push = async (content: string) => {
    const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { ".github/microship.yml": config, "index.js": content } });
    await h.send("push", h.pushPayload({ sha, branch: "main" }));
    await h.fake.waitFor(() => staging().filter((d) => d.sha === sha && d.statuses.some((st) => st.state === "success")).length === 2, 30_000, `both apps' deploys of ${sha.slice(0, 8)}`);
    return sha;
  };
  const first = await push("staging one");
  await settle();
  const last = (d: FakeDeployment) => d.statuses.at(-1)?.state;
  assert.deepEqual(staging().filter((d) => d.sha === first).map(last), ["success", "success"], "api's success left web's deployment active");
  const second = await push("staging two");
  await h.fake.waitFor(() => staging().filter((d) => d.sha === first).every((d) => last(d) === "inactive"), 10_000, "the first push's deployments retired");
  await settle();
  for (const d of staging()) {
    assert.equal(last(d), d.sha === second ? "success" : "inactive", `${appOf(d)} of ${d.sha.slice(0, 7)}`);
    const inactive = d.statuses.filter((st) => st.state === "inactive");
    assert.ok(inactive.length <= 1, "retired once");
    if (inactive[0]) assert.equal(inactive[0].description, `Replaced by a newer deployment of ${appOf(d)}.`);
  }
  apps = [plan()];
});
