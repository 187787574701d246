import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { PipelineDeps } from "../../../src/core/pipeline-deps.ts";
import { runBuild } from "../../../src/core/run-build.ts";
import { PHASES, STAGES } from "../../../src/core/stages/stage-list.ts";
import type { Stage } from "../../../src/core/stages/stage.ts";
import { renderSummary } from "../../../src/github/reporter/render-summary.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../../src/queue/sqlite/sqlite-queue.ts";
import type { Metrics } from "../../../src/core/ports.ts";
import { buildRequest } from "../../helpers/build-requests.ts";
import { RecordingReporter, ScriptedBuilder, emptyArchiver, fileConfig, filesSource, fixedPlanner, namer, plan, quietLog } from "../../helpers/pipeline-doubles.ts";

const scratch: string[] = [];
after(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));

const STAGE_DIR = resolve(import.meta.dirname, "../../../src/core/stages");

async function setup(plans = [plan()]) {
  const sql = new SqliteDatabase(":memory:");
  const store = new SqliteStore(sql);
  const queue = new SqliteQueue(sql);
  const reporter = new RecordingReporter();
  const timed: [string, number][] = [];
  const metrics: Metrics = { delivery() {}, buildFinished() {}, phase: (p, ms) => void timed.push([p, ms]) };
  const workDir = await mkdtemp(join(tmpdir(), "ms-stages-"));
  scratch.push(workDir);
  const deps: PipelineDeps = {
    source: filesSource({ "index.js": "" }), config: fileConfig, planner: fixedPlanner(plans), archiver: emptyArchiver,
    builder: new ScriptedBuilder(async () => ({ digest: `sha256:${"d".repeat(64)}` })), reporter, store, images: namer, secrets: null,
    links: { detailsUrl: (id) => `http://ms.test/builds/${id}` }, metrics, log: quietLog, workDir, buildTimeoutSeconds: 60, progressIntervalMs: 20,
  };
  assert.equal((await store.submit(buildRequest())).kind, "created");
  const build = (await queue.claim({ workerId: "w", leaseMs: 60_000, maxRunning: 10 }))!;
  return { deps, reporter, timed, build };
}

/** What the deploy issue would add: a stage after push, in a file of its own, and one line in the list. */
function attestStage(seen: string[]): Stage<"attest"> {
  return {
    name: "attest",
    phase: "attest",
    scope: "app",
    async run(ctx) {
      seen.push(ctx.app?.found.image?.digest ?? "no image yet");
    },
  };
}

test("a stage added to the list runs after push, and its timing reaches the outcome, the check run's summary and the phase metric", async () => {
  const { deps, reporter, timed, build } = await setup();
  const seen: string[] = [];
  const outcome = await runBuild(build, new AbortController().signal, deps, [...STAGES, attestStage(seen)]);
  assert.equal(outcome.conclusion, "success");
  assert.deepEqual(seen, [`sha256:${"d".repeat(64)}`], "it ran once, after push had recorded the image");
  const attest = (outcome.phases as Record<string, number>).attest;
  assert.equal(typeof attest, "number");
  assert.deepEqual(timed.filter(([p]) => p === "attest"), [["attest", attest]], "the metric got the same time");
  const [done] = reporter.completions();
  const summary = renderSummary(build, done!.outcome, "http://ms.test/builds/x");
  const header = summary.split("\n").find((l) => l.startsWith("| queue"));
  assert.equal(header, "| queue | clone | plan | archive | build | push | deploy | attest |", summary);
});

test("the default list times every stage into the metric, the builder's own measure for build and push", async () => {
  const { deps, timed, build } = await setup();
  const outcome = await runBuild(build, new AbortController().signal, deps);
  assert.deepEqual(timed.map(([p]) => p), ["clone", "plan", "plan", "archive", "build", "push", "deploy"], "config and plan share the plan phase");
  assert.deepEqual(timed.slice(-3, -1), [["build", 5], ["push", 1]], "the scripted builder reports 5 ms and 1 ms");
  assert.deepEqual(Object.keys(outcome.phases), ["queue", "clone", "plan", "archive", "build", "push", "deploy"]);
});

test("an app stage runs once per app of a multi-app repo, each time timed", async () => {
  const { deps, timed, build } = await setup([plan({ app: "api" }), plan({ app: "web" })]);
  deps.images = { target: (req, p) => ({ imageName: `r/${req.owner}/${req.repo}/${p.app}`, tags: [req.sha] }) };
  const seen: string[] = [];
  await runBuild(build, new AbortController().signal, deps, [...STAGES, attestStage(seen)]);
  assert.equal(seen.length, 2);
  assert.equal(timed.filter(([p]) => p === "attest").length, 2);
});

test("each stage of the list lives in src/core/stages/<name>.ts, and the phases follow the list", async () => {
  for (const stage of STAGES) {
    const file = join(STAGE_DIR, `${stage.name}.ts`);
    assert.ok(existsSync(file), `${stage.name} has no file of its own`);
    assert.match(await readFile(file, "utf8"), new RegExp(`export const ${stage.name}Stage: Stage<"${stage.phase}">`));
  }
  assert.deepEqual(PHASES, ["queue", "clone", "plan", "archive", "build", "push", "deploy"]);
  const scopes = STAGES.map((s) => s.scope);
  assert.ok(scopes.lastIndexOf("build") < scopes.indexOf("app"), "every per-build stage comes before the per-app ones");
});
