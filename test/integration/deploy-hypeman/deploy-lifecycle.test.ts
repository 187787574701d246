import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelineDeps } from "../../../src/core/pipeline-deps.ts";
import type { BuildOutcome } from "../../../src/core/build.ts";
import type { BuildRequest } from "../../../src/core/types.ts";
import { runBuild } from "../../../src/core/run-build.ts";
import { noMetrics } from "../../../src/core/ports.ts";
import { DeploymentLocks } from "../../../src/core/deploy/deployment-lock.ts";
import { HypemanDeployer } from "../../../src/deploy/hypeman/hypeman-deployer.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../../src/queue/sqlite/sqlite-queue.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { buildRequest } from "../../helpers/build-requests.ts";
import { RecordingReporter, ScriptedBuilder, emptyArchiver, fileConfig, filesSource, fixedPlanner, namer, plan, quietLog } from "../../helpers/pipeline-doubles.ts";

const digestOf = (c: string) => `sha256:${c.repeat(64)}`;
const RELEASE_CONFIG = `deploy:\n  health: /healthz\n  release: npm run migrate\n  env: { DATABASE: main }\n`;

/** Records who had to wait for a deploy lock, so a test can wait for that moment instead of a timer. */
class WatchedLocks extends DeploymentLocks {
  readonly waited: string[] = [];
  override acquire(name: string, signal: AbortSignal, waiting?: () => void) {
    return super.acquire(name, signal, () => {
      this.waited.push(name);
      waiting?.();
    });
  }
}

describe("deploy lifecycle on Hypeman: release command, one deploy per environment at a time", () => {
  let fake: HypemanFake;
  let work: string;
  let deployer: HypemanDeployer;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "ms-deploy-life-"));
    fake = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest: digestOf("0") })), registry: "registry.test" });
    deployer = new HypemanDeployer({ baseURL: fake.url, apiKey: fake.token(), domain: "preview.test", pollMs: 5, healthTimeoutMs: 5_000, imageTimeoutMs: 20_000, releaseTimeoutMs: 5_000 });
  });
  after(async () => {
    await fake?.close();
    await rm(work, { recursive: true, force: true });
  });

  /** One build through the whole pipeline: its digest is the sha's first character, repeated. */
  async function build(over: Partial<BuildRequest>, config: string, locks: DeploymentLocks | null = null, secrets: PipelineDeps["secrets"] = null): Promise<{ outcome: BuildOutcome; log: string }> {
    const sql = new SqliteDatabase(":memory:");
    const store = new SqliteStore(sql);
    const digest = digestOf(over.sha![0]!);
    const deps: PipelineDeps = {
      source: filesSource({ "index.js": "", ".github/microship.yml": config }), config: fileConfig, planner: fixedPlanner([plan()]), archiver: emptyArchiver,
      builder: new ScriptedBuilder(async () => ({ digest })), reporter: new RecordingReporter(), store, images: namer, secrets,
      links: { detailsUrl: (id) => `http://ms.test/builds/${id}` }, metrics: noMetrics, log: quietLog, workDir: work, buildTimeoutSeconds: 60, progressIntervalMs: 1_000,
      deployer, deployLocks: locks,
    };
    const submitted = await store.submit(buildRequest(over));
    assert.equal(submitted.kind, "created");
    const record = (await new SqliteQueue(sql).claim({ workerId: "w", leaseMs: 60_000, maxRunning: 10 }))!;
    const outcome = await runBuild(record, new AbortController().signal, deps);
    const log = (await store.readLog(record.id)).map((l) => l.text).join("\n");
    return { outcome, log };
  }
  const instances = () => [...fake.deploy.instances.values()];
  const main = { branch: "main", trigger: "push" as const };

  test("deploy.release runs once in a one-off instance of the new image before it starts; its output reaches the build log", async () => {
    fake.deploy.faults.commands.set("npm run migrate", { exitCode: 0, output: ["> migrate", "applied 3 migrations"] });
    const from = fake.deploy.created.length;
    const { outcome, log } = await build({ ...main, sha: "a".repeat(40) }, RELEASE_CONFIG);
    assert.equal(outcome.deploy?.ok, true, outcome.deploy?.error ?? "");
    assert.equal(outcome.release, "npm run migrate", "kept with the build: a rollback to this image runs the same");
    const [release, app, ...more] = fake.deploy.created.slice(from) as [Record<string, any>, Record<string, any>, ...unknown[]];
    assert.equal(more.length, 0);
    assert.deepEqual({ entrypoint: release.entrypoint, cmd: release.cmd, policy: release.restart_policy.policy, image: release.image }, {
      entrypoint: ["/bin/sh", "-c"], cmd: ["npm run migrate"], policy: "never", image: `registry.test/octo/app@${digestOf("a")}`,
    });
    assert.equal(release.env.DATABASE, "main", "the release sees the app's environment");
    assert.equal(app.cmd, undefined, "the app itself runs its image's own command");
    assert.match(log, /release \| applied 3 migrations/);
    assert.match(log, /The release command succeeded/);
    assert.deepEqual(instances().map((i) => i.name), [app.name], "the release's instance is gone; only the app runs");
    const live = await deployer.list(null, AbortSignal.timeout(5_000));
    assert.deepEqual(live.map((d) => d.instance), [app.name], "a release instance is no deployment");
  });

  test("a failing release stops the deploy before any new instance starts: a user error naming the command and exit code", async () => {
    const serving = instances().map((i) => i.id);
    fake.deploy.faults.commands.set("npm run migrate", { exitCode: 3, output: ["error: relation users already exists"] });
    const from = fake.deploy.created.length;
    const { outcome, log } = await build({ ...main, sha: "b".repeat(40) }, RELEASE_CONFIG);
    assert.equal(outcome.conclusion, "success", "the build itself stays green");
    assert.equal(outcome.deploy?.ok, false);
    assert.match(outcome.deploy?.error ?? "", /The release command `npm run migrate` failed with exit code 3/);
    assert.match(log, /release \| error: relation users already exists/);
    assert.equal(fake.deploy.created.length - from, 1, "only the release's instance was created");
    assert.deepEqual(instances().map((i) => i.id), serving, "the previous version keeps serving, and the release instance is gone");
  });

  test("the release's output is bounded and never shows a secret of the deploy", async () => {
    const secret = "s3cr3t-release-value-4711";
    const flood = Array.from({ length: 1_000 }, (_, i) => `line ${i} ${secret} ${"x".repeat(10_000)}`);
    fake.deploy.faults.commands.set("npm run migrate", { exitCode: 0, output: flood });
    const config = `${RELEASE_CONFIG}  secrets: [API_KEY]\n`;
    const { outcome, log } = await build({ ...main, sha: "e".repeat(40) }, config, null, { secretsFor: async () => [{ id: "API_KEY", value: secret }] });
    assert.equal(outcome.deploy?.ok, true, outcome.deploy?.error ?? "");
    const lines = log.split("\n").filter((l) => l.startsWith("release | "));
    assert.ok(lines.length > 0 && lines.length <= 200, `${lines.length} release lines`);
    assert.ok(lines.every((l) => l.length <= 2_100), "each line cut");
    assert.ok(!log.includes(secret), "the secret is redacted");
    assert.match(lines[0]!, /\[REDACTED\]/);
  });

  test("two builds of one environment on two workers: the second deploy starts only after the first one ended", async () => {
    fake.deploy.faults.commands.clear();
    const locks = new WatchedLocks(null, { pollMs: 5 });
    const staging = "deploy:\n  environments: { staging: { branch: staging } }\n";
    const [c, d] = [digestOf("c"), digestOf("d")];
    fake.deploy.faults.holdPulls.add(c).add(d);
    const from = fake.requests.length;
    const both = Promise.all([
      build({ branch: "staging", trigger: "push", sha: "c".repeat(40) }, staging, locks),
      build({ branch: "staging", trigger: "push", sha: "d".repeat(40) }, staging, locks),
    ]);
    // One holds the lock (its pull held by the fake), the other has said it waits: now let them go.
    await until(() => locks.waited.length === 1);
    const touched = (digest: string) => fake.requests.slice(from).some((r) => decodeURIComponent(r.path).includes(digest));
    assert.equal(touched(c) && touched(d), false, "the waiting deploy sent Hypeman nothing yet");
    fake.deploy.faults.holdPulls.clear();
    const results = await both;
    for (const r of results) assert.equal(r.outcome.deploy?.ok, true, r.outcome.deploy?.error ?? "");
    const calls = fake.requests.slice(from).map((r) => `${r.method} ${decodeURIComponent(r.path)}`);
    const firstSeen = (digest: string) => calls.findIndex((p) => p.includes(digest));
    const [first, second] = firstSeen(c) < firstSeen(d) ? [c, d] : [d, c];
    const firstId = fake.deploy.created.find((b) => b.image.endsWith(first))!.id as string;
    // The first deploy's last word with Hypeman (its image, its instance's health) comes before the
    // second's first; the second then deletes the first's instance, which it replaces.
    const lastOfFirst = calls.findLastIndex((p) => p.includes(first) || p === `GET /instances/${firstId}`);
    assert.ok(lastOfFirst !== -1 && lastOfFirst < firstSeen(second), calls.join("\n"));
    assert.ok(results.some((r) => /Waiting for another deploy to staging to finish/.test(r.log)));
    const serving = instances().filter((i) => i.tags["microship-environment"] === "staging");
    assert.deepEqual(serving.map((i) => i.image), [`registry.test/octo/app@${second}`], "the later deploy serves, the earlier was replaced");
  });
});

async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(ok(), "the condition never held");
}
