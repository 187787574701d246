/**
 * Deploying an image again through RollbackService: the redeploy of what serves (a fresh
 * instance, a new GitHub deployment marked redeploy) and a deployment made on GitHub (its sha's
 * image, statuses on that deployment, none created), with the real SQLite store and recording
 * doubles of the Deployer and GitHub's deployments.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RollbackService, type RollbackRequest } from "../../../src/core/deploy/rollback-service.ts";
import { environmentTarget, previewTarget } from "../../../src/core/deploy/deploy-settings.ts";
import type { DeployInput, Deployer, DeploymentReporter, DeployedImage } from "../../../src/core/deployer.ts";
import type { DeployTarget } from "../../../src/core/deploy/deploy-target.ts";
import { emptyOutcome, type BuildOutcome } from "../../../src/core/build.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import { freshGeneration, instanceName, isValidName, deploymentPrefix } from "../../../src/core/deploy/instance-name.ts";
import { vmInstanceName } from "../../../src/deploy/microvm/deployment-name.ts";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const KEY = "k-secret-2718";
/** GitHub's id of octo/app now. */
const REPOSITORY_ID = 4711;
const ref = (c: string) => `registry.test/octo/app@${digest(c)}`;

async function world(o: { fails?: boolean; noisy?: boolean } = {}) {
  const store = new SqliteStore(new SqliteDatabase(":memory:"));
  const inputs: DeployInput[] = [];
  const deployer: Deployer = {
    name: "recording", describe: () => "recording",
    async deploy(input) {
      inputs.push(input);
      if (input.release) input.log(`release | ran ${input.release} with ${input.env.API_KEY}`);
      if (o.noisy) for (let i = 0; i < 5_000; i++) input.log(`release | ${"x".repeat(1_000)} ${i}`);
      if (o.fails) throw new Error("the new version did not pass its health check");
      return { url: "http://app.test", instance: `i-${inputs.length}`, replaced: [] };
    },
    list: async () => [],
    teardown: async () => 0,
  };
  const created: DeployedImage[] = [];
  const statuses: { id: number; state: string }[] = [];
  const deployments: DeploymentReporter = {
    async created(_b, _k, image) {
      created.push(image!);
      return 500 + created.length;
    },
    async status(_b, _k, id, state, o) {
      // A deployment made on GitHub: per app only the preview comment's line; the status once for all.
      if (o.only !== "comment") statuses.push({ id, state });
    },
    previewRemoved: async () => {},
  };
  const secrets = { secretsFor: async () => [{ id: "API_KEY", value: KEY }] };
  const service = new RollbackService({ deployer, deployments, store, secrets, links: { detailsUrl: (id) => `http://ms.test/builds/${id}` }, log: quietLog });
  /** A finished build of `c`'s sha that pushed `c`'s image. */
  async function built(c: string, over: Parameters<typeof buildRequest>[0] = {}, outcome: Partial<BuildOutcome> = {}) {
    const sub = await store.submit(buildRequest({ sha: sha(c), branch: "main", ...over }));
    assert.equal(sub.kind, "created");
    const id = sub.kind === "created" ? sub.build.id : "";
    await store.complete(id, "success", { ...emptyOutcome("success", "built"), image: { ref: ref(c), digest: digest(c), name: "octo/app", tags: [], sizeBytes: null }, ...outcome });
    return (await store.getBuild(id))!;
  }
  const request = (target: DeployTarget, history: RollbackRequest["history"] = []): RollbackRequest => ({
    installationId: 1, owner: "octo", repo: "app", repositoryId: REPOSITORY_ID, target, history, deploy: { env: { FROM: "base" }, secrets: ["API_KEY"], preview: { env: { P: "1" } } },
  });
  const run = (req: RollbackRequest, steps: Parameters<RollbackService["start"]>[1], how: Parameters<RollbackService["start"]>[3]) =>
    new Promise<Awaited<Parameters<Parameters<RollbackService["start"]>[2]>[0]>>((ok) => service.start(req, steps, async (r) => ok(r), how));
  const logOf = async (id: string) => (await store.readLog(id)).map((l) => l.text).join("\n");
  return { store, service, inputs, created, statuses, built, request, run, logOf };
}

test("a redeploy deploys the serving image by digest as a fresh instance, with a new deployment marked redeploy and the base's settings", async () => {
  const w = await world();
  const build = await w.built("a");
  const req = w.request(environmentTarget("production"), [{ app: null, sha: sha("a"), imageRef: ref("a"), digest: digest("a"), buildId: build.id, rollback: false }]);
  const plan = await w.service.planRedeploy(req, { app: null, sha: sha("a"), imageRef: ref("a"), digest: digest("a") });
  assert.ok(plan.ok);
  const [result] = await w.run(req, plan.steps, { kind: "redeploy" });
  assert.equal(result!.ok, true);
  assert.equal(w.inputs[0]!.fresh, true, "the deployer is told to start a fresh instance");
  assert.equal(w.inputs[0]!.digest, digest("a"));
  assert.deepEqual({ FROM: w.inputs[0]!.env.FROM, API_KEY: w.inputs[0]!.env.API_KEY }, { FROM: "base", API_KEY: KEY });
  assert.deepEqual(w.created, [{ imageRef: ref("a"), digest: digest("a"), redeploy: true }]);
  assert.deepEqual(w.statuses, [{ id: 501, state: "in_progress" }, { id: 501, state: "success" }]);
});

test("the attack: a build of the repository that had this name before (another id) is deployed without secrets, and the log says why; an unknown id gets none either", async () => {
  const w = await world();
  const theirs = await w.built("f", { repositoryId: REPOSITORY_ID - 1 });
  const history = [{ app: null, sha: sha("f"), imageRef: ref("f"), digest: digest("f"), buildId: theirs.id, rollback: false }];
  const req = w.request(environmentTarget("production"), history);
  const plan = await w.service.planRedeploy(req, { app: null, sha: sha("f"), imageRef: ref("f"), digest: digest("f") });
  assert.ok(plan.ok);
  const [result] = await w.run(req, plan.steps, { kind: "redeploy" });
  assert.equal(result!.ok, true);
  assert.equal(w.inputs[0]!.env.API_KEY, undefined);
  assert.equal(w.inputs[0]!.env.FROM, "base");
  assert.match(await w.logOf(theirs.id), /built by another repository that had this name before, so it gets no secrets/);
  const ours = await w.built("9", { repositoryId: REPOSITORY_ID });
  const unknown = { ...w.request(environmentTarget("production")), repositoryId: null };
  const again = await w.service.planRedeploy(unknown, { app: null, sha: sha("9"), imageRef: ref("9"), digest: digest("9") });
  assert.ok(again.ok);
  await w.run(unknown, again.steps, { kind: "redeploy" });
  assert.equal(w.inputs[1]!.env.API_KEY, undefined);
  assert.match(await w.logOf(ours.id), /GitHub did not say which repository this is/);
});

test("a redeploy of an image whose build microship no longer has, or of another digest than the build's, is refused", async () => {
  const w = await world();
  await w.built("b");
  const req = w.request(environmentTarget("production"));
  assert.equal((await w.service.planRedeploy(req, { app: null, sha: sha("c"), imageRef: ref("c"), digest: digest("c") })).ok, false);
  const forged = await w.service.planRedeploy(req, { app: null, sha: sha("b"), imageRef: ref("e"), digest: digest("e") });
  assert.equal(forged.ok, false, "the serving digest must be the one the build made");
});

test("a deployment made on GitHub deploys its sha's image with the statuses on that deployment, creating none; a failed deploy ends it in error", async () => {
  const w = await world({ fails: true });
  await w.built("d");
  const req = w.request(environmentTarget("production"));
  const plan = await w.service.planSha(req, sha("d"));
  assert.ok(plan.ok);
  const [result] = await w.run(req, plan.steps, { kind: "deployment", deploymentId: 77 });
  assert.equal(result!.ok, false);
  assert.equal(w.created.length, 0, "no deployment of ours");
  assert.equal(w.inputs[0]!.fresh, undefined, "an image already serving healthy is left as it is");
  assert.deepEqual(w.statuses, [{ id: 77, state: "in_progress" }, { id: 77, state: "error" }]);
  const none = await w.service.planSha(req, sha("9"));
  assert.equal(none.ok, false);
  assert.match(none.ok ? "" : none.reason, /no image of 999999999999/);
});

test("a fork's image goes only to its own pull request's preview, with preview.env and no secret", async () => {
  const w = await world();
  await w.built("f", { branch: "patch", pr: { number: 9, fork: true, headRepo: "forker/app", headRef: "patch", baseRef: "main" } });
  assert.equal((await w.service.planSha(w.request(environmentTarget("production")), sha("f"))).ok, false);
  assert.equal((await w.service.planSha(w.request(previewTarget(10)), sha("f"))).ok, false);
  const req = w.request(previewTarget(9));
  const plan = await w.service.planSha(req, sha("f"));
  assert.ok(plan.ok);
  await w.run(req, plan.steps, { kind: "deployment", deploymentId: 5 });
  assert.deepEqual(w.inputs[0]!.env, { P: "1", PORT: "3000" });
});

test("a rollback runs the release command its build recorded, its lines in that build's log and scrubbed; a redeploy runs none", async () => {
  const w = await world();
  const build = await w.built("1", {}, { release: "npm run migrate" });
  const req = w.request(environmentTarget("production"), [{ app: null, sha: sha("1"), imageRef: ref("1"), digest: digest("1"), buildId: build.id, rollback: false }]);
  req.deploy = { ...req.deploy, release: "today's command, not this image's" };
  const step = { build, key: { owner: "octo", repo: "app", app: null, target: req.target }, entry: { imageRef: ref("1"), digest: digest("1") } };
  await w.run(req, [step], { kind: "rollback" });
  assert.equal(w.inputs[0]!.release, "npm run migrate", "the image's own command, not the base branch's now");
  const log = await w.logOf(build.id);
  assert.match(log, /--- Rollback: this build's image to production, .* ---/);
  assert.match(log, /release \| ran npm run migrate with \[REDACTED\]/);
  assert.ok(!log.includes(KEY), "the secret's value is masked");
  assert.match(log, /Deployed to production: http:\/\/app\.test/);
  await w.run(req, [step], { kind: "redeploy" });
  assert.equal(w.inputs[1]!.release, undefined, "a restart of the serving image runs no release");
});

test("what one image deploy adds to its build's log is bounded, and still ends saying how the deploy went", async () => {
  const w = await world({ noisy: true });
  const build = await w.built("5", {}, { release: "./spam" });
  const req = w.request(environmentTarget("production"));
  await w.run(req, [{ build, key: { owner: "octo", repo: "app", app: null, target: req.target }, entry: { imageRef: ref("5"), digest: digest("5") } }], { kind: "rollback" });
  const lines = (await w.store.readLog(build.id)).map((l) => l.text);
  const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
  assert.ok(bytes <= 520 * 1024, `${bytes} bytes stored`);
  assert.ok(lines.some((l) => /output was cut: it passed 512 KiB/.test(l)));
  assert.match(lines.at(-1)!, /^Deployed to production: /);
});

test("an image deploy runs none for a fork's image, nor for a build that recorded none; a multi-app build's app runs its own", async () => {
  const w = await world();
  const req = w.request(previewTarget(9));
  const key = (app: string | null) => ({ owner: "octo", repo: "app", app, target: req.target });
  const entry = { imageRef: ref("2"), digest: digest("2") };
  const fork = await w.built("2", { branch: "patch", pr: { number: 9, fork: true, headRepo: "forker/app", headRef: "patch", baseRef: "main" } }, { release: "rm -rf /data" });
  const old = await w.built("3");
  const apps = await w.built("4", {}, { image: null, apps: [{ name: "web", conclusion: "success", release: "web-migrate" }, { name: "worker", conclusion: "success", release: null }] });
  await w.run(req, [{ build: fork, key: key(null), entry }, { build: old, key: key(null), entry }, { build: apps, key: key("web"), entry }, { build: apps, key: key("worker"), entry }], { kind: "rollback" });
  assert.deepEqual(w.inputs.map((i) => i.release), [undefined, undefined, "web-migrate", undefined]);
  assert.match(await w.logOf(old.id), /release command was not recorded/);
});

test("a fresh generation names a valid instance that differs from the serving one's, under the same deployment prefix", () => {
  const base = { owner: "octo", repo: "a-very-long-repository-name-for-the-limit", app: "web", slug: "production" };
  const serving = instanceName({ ...base, generation: digest("a").slice(7) });
  for (let i = 0; i < 50; i++) {
    const fresh = instanceName({ ...base, generation: freshGeneration(digest("a")) });
    assert.ok(isValidName(fresh), fresh);
    assert.notEqual(fresh, serving);
    assert.equal(deploymentPrefix(fresh), deploymentPrefix(serving));
  }
  assert.notEqual(vmInstanceName("shop-1a2b3c", freshGeneration(digest("a"))), vmInstanceName("shop-1a2b3c", digest("a")));
});
