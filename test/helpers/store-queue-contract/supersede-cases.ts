import assert from "node:assert/strict";
import { buildRequest, sha } from "../build-requests.ts";
import { emptyOutcome } from "../../../src/core/build.ts";
import { type ContractCase, T0, claim, created, existing, forkRequest, ids, mustGet, pr, submitNew } from "./contract-case.ts";

/** Newer builds of a branch or PR replace older ones (core/supersede.ts), except on the default branch. */
export const supersedeCases: ContractCase[] = [
  {
    name: "a new push supersedes the queued build of the same branch, and asks a running one to stop",
    async run({ store, queue }) {
      const running = await submitNew(store, { sha: sha("1") }, T0);
      assert.equal((await claim(queue, "w", T0 + 1))?.id, running.id);
      const queued = created(await store.submit(buildRequest({ sha: sha("2") }), T0 + 2));
      assert.deepEqual(ids(queued.supersededRunning), [running.id]);
      assert.deepEqual(queued.supersededQueued, []);
      const asked = queued.supersededRunning[0]!;
      assert.equal(asked.state, "running", "a running build is asked, not ended");
      assert.equal(asked.cancelRequested, true);
      assert.equal(asked.supersededBy, queued.build.id);
      assert.equal((await queue.heartbeat(running.id, "w", 10_000, T0 + 3)).cancelRequested, true);

      const newest = created(await store.submit(buildRequest({ sha: sha("3") }), T0 + 4));
      assert.deepEqual(ids(newest.supersededQueued), [queued.build.id]);
      assert.deepEqual(ids(newest.supersededRunning), [running.id], "still running: asked again, now by the newest");
      assert.equal((await mustGet(store, running.id)).supersededBy, newest.build.id);
      const old = await mustGet(store, queued.build.id);
      assert.equal(old.state, "completed");
      assert.equal(old.conclusion, "cancelled");
      assert.equal(old.supersededBy, newest.build.id);
      assert.equal(old.completedAt, T0 + 4);
      assert.equal(old.outcome, null, "the reporter still owes it an outcome");
      assert.equal(await queue.depth(), 1);
    },
  },
  {
    name: "supersede stays within its branch and its repository",
    async run({ store }) {
      const same = await submitNew(store, { sha: sha("1"), branch: "feature" });
      const otherBranch = await submitNew(store, { sha: sha("2"), branch: "other" });
      const otherRepo = await submitNew(store, { sha: sha("3"), branch: "feature", repo: "elsewhere" });
      const otherOwner = await submitNew(store, { sha: sha("4"), branch: "feature", owner: "someone" });
      const next = created(await store.submit(buildRequest({ sha: sha("5"), branch: "feature" })));
      assert.deepEqual(ids(next.supersededQueued), [same.id]);
      for (const id of [otherBranch.id, otherRepo.id, otherOwner.id]) assert.equal((await mustGet(store, id)).state, "queued");
    },
  },
  {
    name: "a PR's new head supersedes the PR's older builds, whatever their branch; other PRs are untouched",
    async run({ store, queue }) {
      const shared = await submitNew(store, { sha: sha("1"), branch: "feature" }, T0);
      existing(await store.submit(buildRequest({ sha: sha("1"), trigger: "pull_request", pr: pr(7) }), T0 + 1));
      assert.equal((await claim(queue, "w", T0 + 2))?.id, shared.id);
      const older = created(await store.submit(buildRequest({ sha: sha("2"), trigger: "pull_request", branch: "renamed", pr: pr(7) }), T0 + 3)).build;
      const otherPr = created(await store.submit(buildRequest({ sha: sha("3"), trigger: "pull_request", branch: "x", pr: pr(8) }), T0 + 4)).build;
      const next = created(await store.submit(buildRequest({ sha: sha("4"), trigger: "pull_request", branch: "y", pr: pr(7) }), T0 + 5));
      assert.deepEqual(ids(next.supersededRunning), [shared.id], "the push build the PR shared is the PR's too");
      assert.deepEqual(ids(next.supersededQueued), [older.id]);
      assert.equal((await mustGet(store, otherPr.id)).state, "queued");
    },
  },
  {
    name: "a push supersedes a same-repo PR's build of its branch, but never a fork PR's",
    async run({ store }) {
      const samePr = created(await store.submit(buildRequest({ sha: sha("1"), trigger: "pull_request", pr: pr(7) }))).build;
      // A fork build that carries a branch name (a re-run can): the name is the fork's, not ours.
      const fork = created(await store.submit(forkRequest(9, { sha: sha("2"), branch: "feature" }))).build;
      const push = created(await store.submit(buildRequest({ sha: sha("3"), branch: "feature" })));
      assert.deepEqual(ids(push.supersededQueued), [samePr.id]);
      assert.equal((await mustGet(store, fork.id)).state, "queued");
    },
  },
  {
    name: "a fork PR's branch name never supersedes the base repo's branch builds",
    async run({ store }) {
      const own = await submitNew(store, { sha: sha("1"), branch: "feature" });
      const fork = created(await store.submit(forkRequest(9, { sha: sha("2") })));
      assert.equal(fork.supersededQueued.length + fork.supersededRunning.length, 0);
      assert.equal((await mustGet(store, own.id)).state, "queued");
    },
  },
  {
    name: "a request with neither a branch nor a PR supersedes nothing",
    async run({ store }) {
      const a = await submitNew(store, { sha: sha("1"), branch: null, trigger: "check_run_rerequested" });
      const b = created(await store.submit(buildRequest({ sha: sha("2"), branch: null, trigger: "check_run_rerequested" })));
      assert.equal(b.supersededQueued.length + b.supersededRunning.length, 0);
      assert.equal((await mustGet(store, a.id)).state, "queued");
    },
  },
  {
    name: "default-branch builds are never superseded; they queue and run one at a time",
    async run({ store, queue }) {
      const a = await submitNew(store, { sha: sha("1"), branch: "main" }, T0);
      const b = created(await store.submit(buildRequest({ sha: sha("2"), branch: "main" }), T0 + 1));
      assert.equal(b.supersededQueued.length + b.supersededRunning.length, 0);
      assert.equal((await claim(queue, "w", T0 + 2))?.id, a.id);
      assert.equal(await claim(queue, "w", T0 + 3), null, "the second main build waits for the first");
      const feature = await submitNew(store, { sha: sha("3"), branch: "feature" }, T0 + 4);
      const otherRepo = await submitNew(store, { sha: sha("4"), branch: "main", repo: "other" }, T0 + 5);
      assert.equal((await claim(queue, "w", T0 + 6))?.id, feature.id, "a waiting main build holds up nothing else");
      assert.equal((await claim(queue, "w", T0 + 7))?.id, otherRepo.id, "another repository's main runs beside it");
      assert.equal(await claim(queue, "w", T0 + 8), null);
      await store.complete(a.id, "success", emptyOutcome("success", "ok"), T0 + 9);
      assert.equal((await claim(queue, "w", T0 + 10))?.id, b.build.id);
      assert.equal((await mustGet(store, a.id)).conclusion, "success");
    },
  },
  {
    name: "a default-branch build stays one after a PR shares it",
    async run({ store, queue }) {
      const main = await submitNew(store, { sha: sha("1"), branch: "main" }, T0);
      existing(await store.submit(buildRequest({ sha: sha("1"), branch: "main", trigger: "pull_request", pr: { ...pr(5), headRef: "main", baseRef: "release" } }), T0 + 1));
      // The repository's default branch is renamed: a push to "main" is now an ordinary branch's.
      const renamed = created(await store.submit(buildRequest({ sha: sha("2"), branch: "main", defaultBranch: "trunk" }), T0 + 2));
      assert.deepEqual([renamed.supersededQueued, renamed.supersededRunning], [[], []], "the build made on the default branch is not superseded");
      assert.equal((await mustGet(store, main.id)).state, "queued");
      const rerun = created(await store.submit(buildRequest({ sha: sha("1"), branch: "main", rerun: true, trigger: "check_run_rerequested" }), T0 + 3)).build;
      assert.equal((await claim(queue, "w", T0 + 4))?.id, main.id);
      assert.equal((await claim(queue, "w", T0 + 5))?.id, renamed.build.id, "not a default-branch build: it does not wait");
      assert.equal(await claim(queue, "w", T0 + 6), null, `the re-run ${rerun.id} waits for the shared build, still a default-branch one`);
    },
  },
];
