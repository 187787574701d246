import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelineDeps } from "../../../src/core/pipeline-deps.ts";
import type { BuildOutcome } from "../../../src/core/build.ts";
import type { BuildRequest } from "../../../src/core/types.ts";
import { runBuild } from "../../../src/core/run-build.ts";
import { cancelledError } from "../../../src/core/errors.ts";
import { noMetrics } from "../../../src/core/ports.ts";
import { HypemanDeployer } from "../../../src/deploy/hypeman/hypeman-deployer.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../../src/queue/sqlite/sqlite-queue.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { buildRequest } from "../../helpers/build-requests.ts";
import { RecordingReporter, ScriptedBuilder, emptyArchiver, fileConfig, filesSource, fixedPlanner, namer, plan, quietLog } from "../../helpers/pipeline-doubles.ts";

const CONFIG = `deploy:
  health: /healthz
  env: { LOG_LEVEL: info }
  preview: { env: { DEMO: "1" } }
`;

describe("deploy stage and hypeman deployer, against the Hypeman fake", () => {
  let fake: HypemanFake;
  let work: string;
  let deployer: HypemanDeployer;
  let digest = "";

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "ms-deploy-"));
    // The fake's builds are not used here: the builder below stands for a build that pushed.
    fake = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest })), registry: "registry.test" });
    deployer = new HypemanDeployer({ baseURL: fake.url, apiKey: fake.token(), domain: "preview.test", pollMs: 5, healthTimeoutMs: 5_000, imageTimeoutMs: 5_000 });
  });
  after(async () => {
    await fake?.close();
    await rm(work, { recursive: true, force: true });
  });

  async function build(over: Partial<BuildRequest>, newDigest: string, config = CONFIG, signal = new AbortController().signal): Promise<BuildOutcome> {
    digest = `sha256:${newDigest.repeat(64).slice(0, 64)}`;
    const sql = new SqliteDatabase(":memory:");
    const store = new SqliteStore(sql);
    const deps: PipelineDeps = {
      source: filesSource({ "index.js": "", ".github/microship.yml": config }), config: fileConfig, planner: fixedPlanner([plan()]), archiver: emptyArchiver,
      builder: new ScriptedBuilder(async () => ({ digest })), reporter: new RecordingReporter(), store, images: namer, secrets: null,
      links: { detailsUrl: (id) => `http://ms.test/builds/${id}` }, metrics: noMetrics, log: quietLog, workDir: work, buildTimeoutSeconds: 60, progressIntervalMs: 1_000,
      deployer,
    };
    assert.equal((await store.submit(buildRequest(over))).kind, "created");
    const record = (await new SqliteQueue(sql).claim({ workerId: "w", leaseMs: 60_000, maxRunning: 10 }))!;
    return runBuild(record, signal, deps);
  }
  const instances = () => [...fake.deploy.instances.values()];
  const main = { branch: "main", trigger: "push" as const };

  test("a build of the default branch pulls the image, starts a healthy instance and routes its domain through one pattern ingress", async () => {
    const outcome = await build(main, "a");
    assert.equal(outcome.conclusion, "success");
    assert.equal(outcome.deploy?.ok, true, outcome.deploy?.error ?? "");
    assert.equal(outcome.deploy?.environment, "production");
    const [image] = fake.deploy.images.values();
    assert.equal(image?.name, `registry.test/octo/app@sha256:${"a".repeat(64)}`);
    assert.equal(image?.status, "ready");
    const [instance, ...more] = instances();
    assert.equal(more.length, 0);
    assert.match(instance!.name, /^app-production-[0-9a-f]{6}-a{12}$/);
    assert.equal(outcome.deploy?.url, `http://${instance!.name}.preview.test`);
    assert.deepEqual(instance!.env, { LOG_LEVEL: "info", PORT: "3000" }, "no preview env outside a preview");
    assert.deepEqual(instance!.health_check.http, { port: 3000, path: "/healthz" });
    assert.equal(instance!.restart_policy.policy, "on_failure");
    assert.equal(instance!.health_status.status, "healthy");
    const [ingress, ...others] = fake.deploy.ingresses.values();
    assert.equal(others.length, 0);
    assert.deepEqual(ingress!.rules, [{ match: { hostname: "{instance}.preview.test", port: 80 }, target: { instance: "{instance}", port: 3000 } }]);
  });

  test("a new image replaces the instance only after the new one is healthy, and the ingress is reused", async () => {
    const old = instances()[0]!;
    const from = fake.requests.length;
    const outcome = await build(main, "b");
    assert.equal(outcome.deploy?.ok, true, outcome.deploy?.error ?? "");
    const now = instances();
    assert.equal(now.length, 1);
    assert.notEqual(now[0]!.id, old.id);
    assert.match(now[0]!.name, /-b{12}$/);
    assert.equal(fake.deploy.ingresses.size, 1, "created once, reused");
    const calls = fake.requests.slice(from).map((r) => `${r.method} ${r.path.split("/").slice(0, 3).join("/")}`);
    const created = calls.indexOf("POST /instances");
    const healthy = calls.lastIndexOf(`GET /instances/${now[0]!.id}`);
    const deleted = calls.indexOf(`DELETE /instances/${old.id}`);
    assert.ok(created !== -1 && healthy > created && deleted > healthy, calls.join("\n"));
    assert.ok(!calls.includes("POST /ingresses"));
  });

  test("a new version that fails its health check is removed, the old one keeps serving, and the build stays green", async () => {
    const serving = instances()[0]!;
    fake.deploy.faults.unhealthy.add(`registry.test/octo/app@sha256:${"c".repeat(64)}`);
    const outcome = await build(main, "c");
    assert.equal(outcome.conclusion, "success", "the image was built and pushed");
    assert.equal(outcome.deploy?.ok, false);
    assert.match(outcome.deploy?.error ?? "", /did not pass its health check \(GET \/healthz on port 3000\): GET \/healthz: connection refused/);
    assert.deepEqual(instances().map((i) => i.id), [serving.id]);
  });

  test("an image Hypeman cannot pull fails the deploy and leaves what serves alone", async () => {
    const serving = instances()[0]!;
    fake.deploy.faults.failImages.add(`registry.test/octo/app@sha256:${"d".repeat(64)}`);
    const outcome = await build(main, "d");
    assert.equal(outcome.conclusion, "success");
    assert.match(outcome.deploy?.error ?? "", /could not pull the image: failed to pull/);
    assert.deepEqual(instances().map((i) => i.id), [serving.id]);
  });

  test("an instance create the server refuses fails the deploy, and the next deploy goes through", async () => {
    fake.deploy.faults.createErrors = 5;
    const failed = await build(main, "e");
    assert.equal(failed.deploy?.ok, false);
    fake.deploy.faults.createErrors = 0;
    const ok = await build(main, "e");
    assert.equal(ok.deploy?.ok, true, ok.deploy?.error ?? "");
    assert.equal(instances().length, 1);
  });

  test("a build cancelled while its new instance starts removes that instance, and the old one keeps serving", async () => {
    const serving = instances().map((i) => i.id);
    fake.deploy.faults.healthAfterReads = Number.MAX_SAFE_INTEGER;
    const stop = new AbortController();
    const started = (async () => {
      while (instances().length === serving.length) await new Promise((r) => setTimeout(r, 5));
      stop.abort(cancelledError("A newer push replaced this build."));
    })();
    const outcome = await build(main, "7", CONFIG, stop.signal);
    await started;
    fake.deploy.faults.healthAfterReads = 2;
    assert.equal(outcome.conclusion, "cancelled");
    assert.deepEqual(instances().map((i) => i.id), serving);
  });

  const pr = (number: number, fork = false) => ({ trigger: "pull_request" as const, branch: "feat", pr: { number, fork, headRepo: fork ? "eve/app" : "octo/app", headRef: "feat", baseRef: "main" } });

  test("a pull request gets a preview of its own with the preview env; a fork's gets none; teardown removes only the preview", async () => {
    const before = instances().length;
    const outcome = await build(pr(12), "f");
    assert.equal(outcome.deploy?.environment, "preview/pr-12");
    const preview = instances().find((i) => i.name.startsWith("app-pr-12-"));
    assert.equal(preview?.env.DEMO, "1");
    assert.equal(instances().length, before + 1);
    const fork = await build(pr(13, true), "f");
    assert.equal(fork.deploy, undefined, "no deploy at all");
    assert.equal(instances().length, before + 1);
    const removed = await deployer.teardown({ owner: "octo", repo: "app", target: { kind: "preview", environment: "preview/pr-12", slug: "pr-12", transient: true, production: false } }, new AbortController().signal);
    assert.equal(removed, 1);
    assert.equal(instances().length, before);
    assert.ok(instances().every((i) => i.name.startsWith("app-production-")));
  });

  test("a server that ignores the tag filter still costs no other deployment its instances", async () => {
    await build(pr(21), "1");
    const production = instances().filter((i) => i.name.startsWith("app-production-")).map((i) => i.id);
    assert.equal(production.length, 1);
    fake.deploy.faults.ignoreTagFilter = true;
    try {
      const outcome = await build(pr(21), "2");
      assert.equal(outcome.deploy?.ok, true, outcome.deploy?.error ?? "");
      const preview = { kind: "preview" as const, environment: "preview/pr-21", slug: "pr-21", transient: true, production: false };
      assert.equal(await deployer.teardown({ owner: "octo", repo: "app", target: preview }, new AbortController().signal), 1);
    } finally {
      fake.deploy.faults.ignoreTagFilter = false;
    }
    assert.deepEqual(instances().map((i) => i.id), production);
  });

  test("list rebuilds each deployment from the instance's own tags, narrowed to one repo even when the server ignores the filter", async () => {
    await build({ ...pr(31), owner: "octo", repo: "other", installationId: 7 }, "3");
    const all = await deployer.list(null, new AbortController().signal);
    const other = all.find((d) => d.repo === "other");
    assert.ok(other, "the other repo's preview is listed");
    assert.equal(other.installationId, 7);
    assert.equal(other.sha, "a".repeat(40));
    assert.deepEqual(other.target, { kind: "preview", environment: "preview/pr-31", slug: "pr-31", transient: true, production: false });
    assert.match(other.url, /^http:\/\/.+\.preview\.test/);
    assert.equal(other.state, "running");
    const days = (other.expiresAt!.getTime() - other.createdAt.getTime()) / 86_400_000;
    assert.ok(days > 6.9 && days < 7.1, `a preview expires after the default 7 days, not ${days}`);
    assert.ok(all.some((d) => d.target.production && d.expiresAt === null), "environments never expire");
    fake.deploy.faults.ignoreTagFilter = true;
    try {
      const app = await deployer.list({ owner: "octo", repo: "app" }, new AbortController().signal);
      assert.ok(app.length > 0 && app.every((d) => d.owner === "octo" && d.repo === "app"));
      assert.ok(app.some((d) => d.target.environment === "production" && d.target.production));
    } finally {
      fake.deploy.faults.ignoreTagFilter = false;
    }
  });

  test("a branch without an environment does not deploy", async () => {
    const from = fake.requests.length;
    const outcome = await build({ branch: "feature", trigger: "push" }, "9");
    assert.equal(outcome.deploy, undefined);
    assert.equal(fake.requests.length, from, "Hypeman was not asked anything");
  });
});
