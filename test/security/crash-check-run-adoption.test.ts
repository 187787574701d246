/**
 * Hole 13: a crash right after GitHub created a check run, before its id was stored, left a
 * second run and the first stuck `queued`. The run carries the build id as `external_id`, and
 * whenever the store has no run id the reporter finds that run on GitHub and adopts it.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Octokit } from "@octokit/core";
import { startGitHubFake, type GitHubFake } from "../fakes/github/github-fake.ts";
import { appCredentials } from "../fakes/app-credentials.ts";
import { CheckRunReporter, CHECK_NAME, type GitHubRequester } from "../../src/github/reporter/check-run-reporter.ts";
import { CheckRunOpener } from "../../src/core/check-run-opener.ts";
import { WorkerPool } from "../../src/core/worker-pool.ts";
import { SqliteDatabase } from "../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../src/queue/sqlite/sqlite-queue.ts";
import { noMetrics } from "../../src/core/ports.ts";
import { buildRequest, sha } from "../helpers/build-requests.ts";
import { ScriptedBuilder, emptyArchiver, fileConfig, filesSource, fixedPlanner, namer, quietLog } from "../helpers/pipeline-doubles.ts";
import type { BuildRecord } from "../../src/core/build.ts";

const OWNER = "octo";
const REPO = "app";
const INSTALLATION = 1;
let fake: GitHubFake;
let reporter: CheckRunReporter;
const links = { detailsUrl: (id: string) => `http://ms.test/builds/${id}` };

before(async () => {
  const creds = appCredentials();
  fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  fake.createRepo({ owner: OWNER, repo: REPO, installationId: INSTALLATION });
  const token = fake.state.mintToken(INSTALLATION)!.token;
  const octokit = new Octokit({ baseUrl: `${fake.url}/api/v3`, auth: token });
  reporter = new CheckRunReporter(async () => octokit as unknown as GitHubRequester, links);
});

after(async () => {
  assert.deepEqual(fake.unknownCalls(), [], "no call outside the OpenAPI subset");
  assert.deepEqual(fake.rejectedCalls().map((c) => `${c.method} ${c.path}`), [], "no request rejected by validation");
  await fake.close();
});

/** What GitHub holds after the crash: the build's run, created, but never stored by microship. */
function orphanRun(build: BuildRecord, name = CHECK_NAME): number {
  const id = fake.state.id();
  fake.state.checkRuns.set(id, {
    id, owner: OWNER, repo: REPO, name, head_sha: build.request.sha, status: "queued", conclusion: null, external_id: build.id,
    details_url: null, started_at: null, completed_at: null, output: { title: "Queued", summary: "", text: null }, annotations: [], actions: [], history: [],
  });
  return id;
}

/** Other runs of our name on the same sha (earlier attempts), newer than the orphan: the lookup must page past them. */
function otherRuns(s: string, n: number, name = CHECK_NAME): void {
  for (let i = 0; i < n; i++) {
    const id = fake.state.id();
    fake.state.checkRuns.set(id, {
      id, owner: OWNER, repo: REPO, name, head_sha: s, status: "completed", conclusion: "success", external_id: `other-${i}`,
      details_url: null, started_at: null, completed_at: null, output: { title: "", summary: "", text: null }, annotations: [], actions: [], history: [],
    });
  }
}

async function world() {
  const dir = await mkdtemp(join(tmpdir(), "ms-adopt-"));
  const sql = new SqliteDatabase(join(dir, "db.sqlite"));
  const store = new SqliteStore(sql);
  const queue = new SqliteQueue(sql);
  const opener = new CheckRunOpener(store, reporter, quietLog);
  return { dir, sql, store, queue, opener, async close() { sql.close(); await rm(dir, { recursive: true, force: true }); } };
}

const runsOf = (buildId: string) => fake.checkRuns(OWNER, REPO).filter((r) => r.external_id === buildId);

test("on restart, the opener adopts the run GitHub already has for the build, found past 250 other runs of its name", async () => {
  const w = await world();
  const r = await w.store.submit(buildRequest({ sha: sha("1") }));
  assert.ok(r.kind === "created");
  const orphan = orphanRun(r.build);
  otherRuns(sha("1"), 250);
  const id = await w.opener.ensure(r.build);
  assert.equal(id, orphan, "the existing run is adopted");
  assert.equal((await w.store.getBuild(r.build.id))?.checkRunId, orphan);
  assert.equal(runsOf(r.build.id).length, 1, "no second run");
  const lists = fake.calls.filter((c) => c.operationId === "checks/list-for-ref");
  assert.ok(lists.every((c) => Number(c.query.per_page) <= 100), "pages of at most 100");
  await w.close();
});

test("a multi-app run created before the crash is adopted by its name when the app starts again", async () => {
  const w = await world();
  const r = await w.store.submit(buildRequest({ sha: sha("2") }));
  assert.ok(r.kind === "created");
  const orphan = orphanRun(r.build, `${CHECK_NAME}/web`);
  orphanRun({ ...r.build, id: "someone-else" }, `${CHECK_NAME}/web`);
  const id = await reporter.started({ build: r.build, app: "web", checkRunId: null }, "test");
  assert.equal(id, orphan);
  assert.equal(runsOf(r.build.id).length, 1);
  assert.equal(fake.state.checkRuns.get(orphan)?.status, "in_progress");
  await w.close();
});

test("a build abandoned after its last try is concluded on the run the crash left unstored", async () => {
  const w = await world();
  const r = await w.store.submit(buildRequest({ sha: sha("3") }));
  assert.ok(r.kind === "created");
  const orphan = orphanRun(r.build);
  // Taken twice by workers that died: the lease lapsed on its last try.
  w.sql.db.prepare("UPDATE builds SET state = 'running', tries = 2, lease_owner = 'dead', lease_expires_at = 1 WHERE id = ?").run(r.build.id);
  const pool = new WorkerPool({
    queue: w.queue, opener: w.opener, concurrency: 1, leaseMs: 300, pollMs: 50, maxTries: 2,
    pipeline: {
      source: filesSource({}), config: fileConfig, planner: fixedPlanner(), archiver: emptyArchiver, builder: new ScriptedBuilder(async () => ({ digest: "x" })),
      reporter, store: w.store, images: namer, secrets: null, links, metrics: noMetrics, log: quietLog, workDir: w.dir, buildTimeoutSeconds: 60, progressIntervalMs: 50,
    },
  });
  await pool.recover();
  const run = fake.state.checkRuns.get(orphan)!;
  assert.equal(run.status, "completed", "the orphaned run does not stay queued");
  assert.equal(run.conclusion, "neutral");
  assert.equal(runsOf(r.build.id).length, 1);
  assert.equal((await w.store.getBuild(r.build.id))?.state, "completed");
  await w.close();
});

test("the fake pages check runs as GitHub does: at most 100, `latest` keeps the newest per name, a Link header", async () => {
  otherRuns(sha("4"), 130);
  const token = fake.state.mintToken(INSTALLATION)!.token;
  const get = (q: string) => fetch(`${fake.url}/api/v3/repos/${OWNER}/${REPO}/commits/${sha("4")}/check-runs?${q}`, { headers: { authorization: `token ${token}` } });
  const all = await get("filter=all&per_page=1000");
  const body = (await all.json()) as { total_count: number; check_runs: unknown[] };
  assert.equal(body.total_count, 130);
  assert.equal(body.check_runs.length, 100);
  assert.match(all.headers.get("link") ?? "", /page=2.*rel="next"/);
  const latest = (await (await get("per_page=100")).json()) as { total_count: number };
  assert.equal(latest.total_count, 1);
  const none = (await (await get(`check_name=nope&filter=all`)).json()) as { total_count: number };
  assert.equal(none.total_count, 0);
});
