/**
 * Hole 11: a fork PR whose head sha equals a queued default-branch push took the push over
 * (fork cache scope, no `main` tag), and a push of a fork's sha rode on the fork's build. A
 * trusted build and an untrusted one never share a build.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, waitForAbort } from "../helpers/pipeline-doubles.ts";
import { RegistryImageNamer } from "../../src/registry/image-name.ts";
import type { BuildInput } from "../../src/core/builder.ts";
import { cleanupAll } from "../helpers/cleanup.ts";
import { SqliteDatabase } from "../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.ts";
import { buildRequest, sha } from "../helpers/build-requests.ts";

let h: Harness;
const inputs: BuildInput[] = [];
let releaseBlocker: () => void = () => {};

before(async () => {
  const builder = new ScriptedBuilder(async (input) => {
    inputs.push(input);
    if (input.tags.includes("blocker")) {
      await new Promise<void>((r) => (releaseBlocker = r));
    }
    if (input.signal.aborted) return waitForAbort(input.signal);
    return { digest: `sha256:${"d".repeat(64)}` };
  });
  // One builder, so the push of `main` waits in the queue while the fork arrives.
  h = await startHarness({ builder, planner: fixedPlanner(), archiver: emptyArchiver, images: new RegistryImageNamer("registry.test") }, { MICROSHIP_CONCURRENCY: "1" });
});

after(async () => {
  releaseBlocker();
  await cleanupAll(
    () => assert.deepEqual(h.fake.unknownCalls(), [], "no call outside the OpenAPI subset"),
    () => assert.deepEqual(h.fake.rejectedCalls().map((c) => `${c.method} ${c.path}`), [], "no request rejected by validation"),
    () => h.stop(),
  );
});

const runsFor = (s: string) => h.fake.checkRuns(OWNER, REPO).filter((r) => r.head_sha === s);
const completedRuns = (s: string, n: number) =>
  h.fake.waitFor(() => {
    const done = runsFor(s).filter((r) => r.status === "completed");
    return done.length >= n && done;
  }, 30_000, `${n} completed run(s) for ${s.slice(0, 8)}`);

async function blockTheBuilder(): Promise<void> {
  const s = h.fake.commit({ owner: OWNER, repo: REPO, branch: "blocker", files: { "b.txt": String(Math.random()) } });
  await h.send("push", h.pushPayload({ sha: s, branch: "blocker" }));
  await h.fake.waitFor(() => inputs.some((i) => i.tags.includes("blocker") && i.tags[0] === s), 20_000, "the blocker to start");
}

function forkPr(number: number, s: string): Record<string, any> {
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number, headSha: s, headRef: "patch", headRepo: `a-forker/${REPO}` });
  return h.prPayload({ action: "opened", number, sha: s, headRef: "patch", fork: true });
}

test("a fork PR with the sha of a queued push of main gets its own build; the push keeps its trust, scope and `main` tag", async () => {
  await blockTheBuilder();
  const s = h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { "a.txt": "main-1" } });
  await h.send("push", h.pushPayload({ sha: s, branch: "main" }));
  await h.send("pull_request", forkPr(31, s));
  releaseBlocker();
  await completedRuns(s, 2);
  const built = inputs.filter((i) => i.tags[0] === s);
  const push = built.find((i) => i.tags.includes("main"));
  const fork = built.find((i) => i.tags.includes("pr-31"));
  assert.ok(push, `the push was built with its main tag (tags seen: ${JSON.stringify(built.map((i) => i.tags))})`);
  assert.equal(push.cacheScope, `${OWNER}/${REPO}`);
  assert.ok(!push.tags.includes("pr-31"));
  assert.ok(fork, "the fork PR was built on its own");
  assert.equal(fork.cacheScope, `${OWNER}/${REPO}/pr-31`);
  assert.deepEqual(fork.secrets, []);
  assert.ok(!fork.tags.includes("main"), "a fork build never carries a branch tag of the base repo");
  const untrusted = await h.app.store.latestBuildForSha(OWNER, REPO, s, false);
  assert.equal(untrusted?.request.fetchRef, "refs/pull/31/head");
  assert.equal(runsFor(s).length, 2, "one check run per build");
});

test("a push of a sha that a fork PR opened first is built as the push, not folded into the fork's build", async () => {
  await blockTheBuilder();
  const s = h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { "a.txt": "main-2" } });
  await h.send("pull_request", forkPr(32, s));
  await h.send("push", h.pushPayload({ sha: s, branch: "main" }));
  releaseBlocker();
  await completedRuns(s, 2);
  const built = inputs.filter((i) => i.tags[0] === s);
  assert.equal(built.find((i) => i.tags.includes("main"))?.cacheScope, `${OWNER}/${REPO}`);
  assert.equal(built.find((i) => i.tags.includes("pr-32"))?.cacheScope, `${OWNER}/${REPO}/pr-32`);
});

test("store: one build per sha within a trust level; the levels never share; re-runs of both levels coexist", async () => {
  const store = new SqliteStore(new SqliteDatabase(":memory:"));
  const samePr = { number: 7, fork: false, headRepo: "octo/app", headRef: "feature", baseRef: "main" };
  const forkPr = { number: 8, fork: true, headRepo: "evil/app", headRef: "feature", baseRef: "main" };
  const push = await store.submit(buildRequest({ sha: sha("e"), branch: "main" }));
  const same = await store.submit(buildRequest({ sha: sha("e"), trigger: "pull_request", pr: samePr }));
  const fork = await store.submit(buildRequest({ sha: sha("e"), trigger: "pull_request", branch: null, pr: forkPr, fetchRef: "refs/pull/8/head" }));
  assert.ok(push.kind === "created" && same.kind === "existing" && fork.kind === "created");
  assert.equal(same.build.id, push.build.id, "a same-repo PR still shares the push's build");
  assert.notEqual(fork.build.id, push.build.id);
  assert.equal((await store.getBuild(push.build.id))?.request.pr?.fork, false, "the push's build never learns the fork's PR");
  // A second fork PR of the sha shares the fork build, never the trusted one.
  const fork2 = await store.submit(buildRequest({ sha: sha("e"), trigger: "pull_request", branch: null, pr: { ...forkPr, number: 9 }, fetchRef: "refs/pull/9/head" }));
  assert.ok(fork2.kind === "existing");
  assert.equal(fork2.build.id, fork.build.id);
  const rerunFork = await store.submit(buildRequest({ sha: sha("e"), rerun: true, trigger: "check_run_rerequested", branch: null, pr: forkPr, fetchRef: "refs/pull/8/head" }));
  const rerunPush = await store.submit(buildRequest({ sha: sha("e"), rerun: true, trigger: "check_run_rerequested", branch: "main" }));
  assert.ok(rerunFork.kind === "created" && rerunPush.kind === "created", "attempts never collide across levels");
  assert.equal((await store.latestBuildForSha("octo", "app", sha("e"), true))?.id, rerunPush.build.id);
  assert.equal((await store.latestBuildForSha("octo", "app", sha("e"), false))?.id, rerunFork.build.id);
  await store.close();
});
