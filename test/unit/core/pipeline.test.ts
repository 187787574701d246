import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelineDeps } from "../../../src/core/pipeline-deps.ts";
import { runBuild } from "../../../src/core/run-build.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../../src/queue/sqlite/sqlite-queue.ts";
import { noMetrics } from "../../../src/core/ports.ts";
import { userError, infraError, cancelledError } from "../../../src/core/errors.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";
import {
  RecordingReporter, ScriptedBuilder, emptyArchiver, fileConfig, filesSource, fixedPlanner, namer, plan, quietLog, waitForAbort, type Script,
} from "../../helpers/pipeline-doubles.ts";

const scratch: string[] = [];
after(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));

async function setup(script: Script, files: Record<string, string> = { "index.js": "" }, plans = [plan()]) {
  const sql = new SqliteDatabase(":memory:");
  const store = new SqliteStore(sql);
  const queue = new SqliteQueue(sql);
  const reporter = new RecordingReporter();
  const builder = new ScriptedBuilder(script);
  const source = filesSource(files);
  const deps: PipelineDeps = {
    source, config: fileConfig, planner: fixedPlanner(plans), archiver: emptyArchiver, builder, reporter, store, images: namer, secrets: null,
    links: { detailsUrl: (id) => `http://ms.test/builds/${id}` }, metrics: noMetrics, log: quietLog,
    workDir: await mkdtemp(join(tmpdir(), "ms-work-")).then((d) => (scratch.push(d), d)), buildTimeoutSeconds: 60, progressIntervalMs: 20,
  };
  const submit = async (over = {}) => {
    const r = await store.submit(buildRequest(over));
    assert.equal(r.kind, "created");
    return (await queue.claim({ workerId: "w", leaseMs: 60_000, maxRunning: 10 }))!;
  };
  return { store, reporter, builder, source, deps, submit };
}

test("a successful build reports the image and ends the build in the store", async () => {
  const { deps, submit, reporter, store, source } = await setup(async (_i, log) => {
    log("STEP 1/1: FROM scratch");
    return { digest: `sha256:${"d".repeat(64)}` };
  });
  const build = await submit();
  const outcome = await runBuild(build, new AbortController().signal, deps);
  assert.equal(outcome.conclusion, "success");
  assert.equal(outcome.image?.digest, `sha256:${"d".repeat(64)}`);
  assert.ok(outcome.phases.clone !== undefined && outcome.phases.build !== undefined && outcome.phases.queue !== undefined);
  const [done] = reporter.completions();
  assert.ok(done?.tail.some((l) => l.text === "STEP 1/1: FROM scratch"));
  const stored = await store.getBuild(build.id);
  assert.equal(stored?.state, "completed");
  assert.equal(stored?.conclusion, "success");
  assert.ok((await store.readLog(build.id)).some((l) => l.text.includes("STEP 1/1")), "the full log is stored for the build page");
  const { existsSync } = await import("node:fs");
  assert.ok(!existsSync(source.dirs[0]!), "the checkout is removed");
});

test("a failing build step is the user's: failure, with the failing lines", async () => {
  const { deps, submit, reporter } = await setup(async (_i, log) => {
    log("npm ERR! missing script: build");
    throw userError("STEP 4/7: RUN npm run build exited with 1", { title: "Build step failed" });
  });
  const outcome = await runBuild(await submit(), new AbortController().signal, deps);
  assert.equal(outcome.conclusion, "failure");
  assert.equal(outcome.title, "Build step failed");
  assert.ok(reporter.completions()[0]?.tail.some((l) => l.text.includes("npm ERR!")));
});

test("a builder fault is ours: neutral", async () => {
  const { deps, submit } = await setup(async () => {
    throw infraError("builder unreachable");
  });
  assert.equal((await runBuild(await submit(), new AbortController().signal, deps)).conclusion, "neutral");
});

test("an invalid repo config fails the check and names the file and line, before any build", async () => {
  const { deps, submit, builder } = await setup(async () => ({ digest: "sha256:x" }), { ".github/microship.yml": "runtime: node\ntimeout: soon\n" });
  const outcome = await runBuild(await submit(), new AbortController().signal, deps);
  assert.equal(outcome.conclusion, "failure");
  assert.equal(outcome.title, "Config schema error");
  assert.deepEqual(outcome.error?.location, { file: ".github/microship.yml", line: 2, column: 10 });
  assert.equal(builder.inputs.length, 0);
});

test("a push that touches only paths outside `paths` is skipped", async () => {
  const { deps, submit, builder } = await setup(async () => ({ digest: "sha256:x" }), { ".github/microship.yml": "paths: [\"src/**\"]\n" });
  const outcome = await runBuild(await submit({ changedPaths: ["README.md"] }), new AbortController().signal, deps);
  assert.equal(outcome.conclusion, "skipped");
  assert.match(outcome.skippedReason ?? "", /paths/);
  assert.equal(builder.inputs.length, 0);
});

test("fork PRs get no secrets and a cache scope of their own", async () => {
  const { deps, submit, builder } = await setup(async () => ({ digest: "sha256:x" }));
  deps.secrets = { secretsFor: async () => [{ id: "npm", value: "s3cr3t-value" }] };
  await runBuild(await submit({ pr: { number: 12, fork: true, headRepo: "evil/app", headRef: "x", baseRef: "main" }, branch: null }), new AbortController().signal, deps);
  assert.deepEqual(builder.inputs[0]?.secrets, []);
  assert.equal(builder.inputs[0]?.cacheScope, "octo/app/pr-12");
  await runBuild(await submit({ sha: sha("e"), branch: "other" }), new AbortController().signal, deps);
  assert.equal(builder.inputs[1]?.cacheScope, "octo/app");
  assert.equal(builder.inputs[1]?.secrets.length, 1);
});

test("a cancelled build concludes cancelled and names the build that replaced it", async () => {
  const { deps, submit, store } = await setup(async (input) => waitForAbort(input.signal));
  const build = await submit({ sha: sha("1") });
  const controller = new AbortController();
  const running = runBuild(build, controller.signal, deps);
  const newer = await store.submit(buildRequest({ sha: sha("2") }));
  assert.ok(newer.kind === "created");
  controller.abort(cancelledError("A newer build replaced this one."));
  const outcome = await running;
  assert.equal(outcome.conclusion, "cancelled");
  assert.equal(outcome.supersededBy?.sha, sha("2"));
});

test("the log tail is sent while the build runs, throttled", async () => {
  const { deps, submit, reporter } = await setup(async (_i, log) => {
    for (let i = 0; i < 10; i++) {
      log(`line ${i}`);
      await new Promise((r) => setTimeout(r, 15));
    }
    return { digest: "sha256:x" };
  });
  await runBuild(await submit(), new AbortController().signal, deps);
  const progress = reporter.calls.filter((c) => c.kind === "progress");
  assert.ok(progress.length >= 1, "at least one live update");
  assert.ok(progress.length <= 10, "not one update per line");
  assert.equal(reporter.calls.at(-1)?.kind, "completed", "the final report comes last");
});

test("a multi-app repo reports each app on its own check run, and the main run concludes with the worst", async () => {
  const { deps, submit, reporter, builder } = await setup(async (input) => {
    if (input.imageName.endsWith("web")) throw userError("web failed");
    return { digest: "sha256:x" };
  }, { "index.js": "" }, [plan({ app: "api" }), plan({ app: "web" })]);
  deps.images = { target: (req, p) => ({ imageName: `r/${req.owner}/${req.repo}/${p.app}`, tags: [req.sha] }) };
  const outcome = await runBuild(await submit(), new AbortController().signal, deps);
  assert.equal(builder.inputs.length, 2);
  const apps = reporter.completions().filter((c) => c.app !== null).map((c) => [c.app, c.outcome.conclusion]);
  assert.deepEqual(apps, [["api", "success"], ["web", "failure"]]);
  assert.equal(outcome.conclusion, "failure");
  assert.equal(outcome.title, "1 of 2 apps built");
  // api built and has no release command (recorded for a later rollback); web never reached the deploy stage.
  assert.deepEqual(outcome.apps, [{ name: "api", conclusion: "success", release: null }, { name: "web", conclusion: "failure" }], "the dashboard lists them");
});
