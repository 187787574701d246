import assert from "node:assert/strict";
import { buildRequest, sha } from "../build-requests.ts";
import { emptyOutcome } from "../../../src/core/build.ts";
import { type ContractCase, T0, claim, created, existing, forkRequest, ids, mustGet, pr, submitNew } from "./contract-case.ts";

/** Closing PRs, check runs, completion and counts. */
export const bookkeepingCases: ContractCase[] = [
  {
    name: "closing a PR cancels its queued builds but not a push build it shared",
    async run({ store }) {
      const prBuild = created(await store.submit(forkRequest(3, { sha: sha("5") })));
      const { queued } = await store.cancelPullRequest("octo", "app", 3);
      assert.deepEqual(queued.map((b) => b.id), [prBuild.build.id]);
    },
  },
  {
    name: "closing a PR stops its builds: queued ones end now, running ones are asked; shared pushes, other PRs and finished builds stay",
    async run({ store, queue }) {
      const push = await submitNew(store, { sha: sha("1"), branch: "feature" }, T0);
      existing(await store.submit(buildRequest({ sha: sha("1"), trigger: "pull_request", pr: pr(3) }), T0 + 1));
      const running = await submitNew(store, { sha: sha("2"), trigger: "pull_request", pr: pr(3) }, T0 + 2);
      assert.equal((await claim(queue, "w", T0 + 3))?.id, running.id, "the push was superseded by the PR's new head");
      const queuedRerun = await submitNew(store, { sha: sha("2"), trigger: "check_run_rerequested", pr: pr(3), rerun: true }, T0 + 4);
      const otherPr = await submitNew(store, { sha: sha("4"), branch: "x", trigger: "pull_request", pr: pr(4) }, T0 + 5);
      const sharedPush = await submitNew(store, { sha: sha("5"), branch: "y" }, T0 + 6);
      existing(await store.submit(buildRequest({ sha: sha("5"), branch: "y", trigger: "pull_request", pr: pr(3) }), T0 + 7));
      const stopped = await store.cancelPullRequest("octo", "app", 3, T0 + 8);
      assert.deepEqual(ids(stopped.queued), [queuedRerun.id]);
      assert.deepEqual(ids(stopped.running), [running.id]);
      const q = await mustGet(store, queuedRerun.id);
      assert.deepEqual([q.state, q.conclusion, q.completedAt, q.supersededBy], ["completed", "cancelled", T0 + 8, null]);
      const r = await mustGet(store, running.id);
      assert.deepEqual([r.state, r.cancelRequested, r.supersededBy], ["running", true, null]);
      assert.equal((await mustGet(store, otherPr.id)).state, "queued");
      assert.equal((await mustGet(store, sharedPush.id)).state, "queued", "a push build the PR shared still serves its branch");
      assert.equal((await mustGet(store, push.id)).supersededBy, running.id, "finished before: untouched");
    },
  },
  {
    name: "closing a PR leaves the supersededBy of its running builds as it was",
    async run({ store, queue }) {
      const first = await submitNew(store, { sha: sha("1"), trigger: "pull_request", pr: pr(3) }, T0);
      await claim(queue, "w", T0 + 1);
      const second = await submitNew(store, { sha: sha("2"), trigger: "pull_request", pr: pr(3) }, T0 + 2);
      const stopped = await store.cancelPullRequest("octo", "app", 3, T0 + 3);
      assert.deepEqual(ids(stopped.running), [first.id], "still running, so still listed");
      assert.deepEqual(ids(stopped.queued), [second.id]);
      assert.equal((await mustGet(store, first.id)).supersededBy, second.id);
    },
  },
  {
    name: "builds without a check run: unfinished ones, oldest first, up to the limit",
    async run({ store, queue }) {
      const late = await submitNew(store, { sha: sha("1"), branch: "a" }, T0 + 300);
      const early = await submitNew(store, { sha: sha("2"), branch: "b" }, T0 + 100);
      const middle = await submitNew(store, { sha: sha("3"), branch: "c" }, T0 + 200);
      const withRun = await submitNew(store, { sha: sha("4"), branch: "d" }, T0 + 50);
      const done = await submitNew(store, { sha: sha("5"), branch: "e" }, T0);
      await store.setCheckRunId(withRun.id, 42);
      await store.complete(done.id, "success", emptyOutcome("success", "ok"), T0 + 400);
      assert.equal((await claim(queue, "w", T0 + 500))?.id, withRun.id);
      assert.deepEqual((await store.buildsWithoutCheckRun(10)).map((b) => b.id), [early.id, middle.id, late.id]);
      assert.deepEqual((await store.buildsWithoutCheckRun(1)).map((b) => b.id), [early.id]);
      assert.equal((await mustGet(store, withRun.id)).checkRunId, 42, "the claim kept it");
      assert.equal((await mustGet(store, late.id)).checkRunId, null);
    },
  },
  {
    name: "a build's check run id: the first one stored wins, and each caller learns which it is",
    async run({ store }) {
      const build = await submitNew(store, { sha: sha("1"), branch: "a" });
      assert.equal(await store.setCheckRunId(build.id, 7), 7);
      assert.equal(await store.setCheckRunId(build.id, 8), 7, "a second opener is told the first run");
      assert.equal((await mustGet(store, build.id)).checkRunId, 7);
    },
  },
  {
    name: "app check runs: one per (build, app), listed by app until completed; setting one again reopens it",
    async run({ store }) {
      const a = await submitNew(store, { sha: sha("1"), branch: "a" });
      const b = await submitNew(store, { sha: sha("2"), branch: "b" });
      assert.deepEqual(await store.openAppCheckRuns(a.id), []);
      await store.setAppCheckRun(a.id, "web", 11);
      await store.setAppCheckRun(a.id, "api", 12);
      await store.setAppCheckRun(b.id, "web", 21);
      assert.deepEqual(await store.openAppCheckRuns(a.id), [{ app: "api", checkRunId: 12 }, { app: "web", checkRunId: 11 }]);
      await store.markAppCheckRunCompleted(a.id, "api");
      assert.deepEqual(await store.openAppCheckRuns(a.id), [{ app: "web", checkRunId: 11 }]);
      assert.deepEqual(await store.openAppCheckRuns(b.id), [{ app: "web", checkRunId: 21 }], "another build's runs are its own");
      await store.setAppCheckRun(a.id, "api", 13);
      await store.setAppCheckRun(a.id, "web", 14);
      assert.deepEqual(await store.openAppCheckRuns(a.id), [{ app: "api", checkRunId: 13 }, { app: "web", checkRunId: 14 }]);
      await store.markAppCheckRunCompleted(a.id, "nope");
      assert.equal((await store.openAppCheckRuns(a.id)).length, 2);
    },
  },
  {
    name: "complete ends a build once, clearing its lease; a build cancelled while queued completes once more",
    async run({ store, queue }) {
      const build = await submitNew(store, { sha: sha("1") }, T0);
      await claim(queue, "w", T0 + 1);
      const outcome = { ...emptyOutcome("failure", "it broke"), runtime: "nodejs24" };
      assert.equal(await store.complete(build.id, "failure", outcome, T0 + 2), true);
      const done = await mustGet(store, build.id);
      assert.deepEqual([done.state, done.conclusion, done.completedAt, done.leaseOwner, done.leaseExpiresAt], ["completed", "failure", T0 + 2, null, null]);
      assert.deepEqual(done.outcome, outcome);
      assert.equal(await store.complete(build.id, "success", emptyOutcome("success", "ok"), T0 + 3), false);
      assert.equal((await mustGet(store, build.id)).conclusion, "failure");
      assert.equal(await store.complete("no-such-build", "success", emptyOutcome("success", "ok")), false);

      const cancelled = await submitNew(store, { sha: sha("2") }, T0 + 4);
      await submitNew(store, { sha: sha("3") }, T0 + 5);
      assert.equal(await store.complete(cancelled.id, "cancelled", emptyOutcome("cancelled", "superseded"), T0 + 6), true, "the reporter still owed it an outcome");
      const c = await mustGet(store, cancelled.id);
      assert.deepEqual([c.conclusion, c.completedAt, c.outcome?.title], ["cancelled", T0 + 5, "superseded"]);
      assert.equal(await store.complete(cancelled.id, "cancelled", emptyOutcome("cancelled", "again"), T0 + 7), false);
    },
  },
  {
    name: "counts by state, queue depth, ping, and unknown ids",
    async run({ store, queue }) {
      await store.ping();
      assert.equal(await queue.depth(), 0);
      const a = await submitNew(store, { sha: sha("1"), branch: "a" }, T0);
      await submitNew(store, { sha: sha("2"), branch: "b" }, T0 + 1);
      await submitNew(store, { sha: sha("3"), branch: "b" }, T0 + 2);
      await submitNew(store, { sha: sha("4"), branch: "c" }, T0 + 3);
      assert.equal((await claim(queue, "w", T0 + 4))?.id, a.id);
      const counts = await store.countByState();
      assert.deepEqual([counts.queued, counts.running, counts.completed], [2, 1, 1]);
      assert.equal(await queue.depth(), 2);
      assert.equal(await store.getBuild("no-such-build"), null);
    },
  },
];
