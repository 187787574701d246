import assert from "node:assert/strict";
import { buildRequest, sha } from "../build-requests.ts";
import { emptyOutcome } from "../../../src/core/build.ts";
import { type ContractCase, T0, created, existing, forkRequest, mustGet, pr, submitNew } from "./contract-case.ts";

/** Deliveries and sharing: one build per (owner, repo, sha) within a trust level. */
export const submitCases: ContractCase[] = [
  {
    name: "a redelivered webhook does not build twice",
    async run({ store, queue }) {
      const req = buildRequest();
      assert.equal((await store.submit(req)).kind, "created");
      assert.equal((await store.submit(req)).kind, "duplicate-delivery");
      assert.equal((await store.submit({ ...req, sha: sha("f"), branch: "other" })).kind, "duplicate-delivery", "the delivery id decides, not the content");
      assert.equal((await store.countByState()).queued, 1);
      assert.equal(await queue.depth(), 1);
    },
  },
  {
    name: "recordDelivery and submit share one record of deliveries",
    async run({ store }) {
      assert.equal(await store.recordDelivery("d-1", "installation"), true);
      assert.equal(await store.recordDelivery("d-1", "installation"), false);
      assert.equal((await store.submit(buildRequest({ deliveryId: "d-1" }))).kind, "duplicate-delivery");
      const req = buildRequest({ deliveryId: "d-2" });
      created(await store.submit(req));
      assert.equal(await store.recordDelivery("d-2", "push"), false);
      assert.equal((await store.countByState()).queued, 1);
    },
  },
  {
    name: "push and pull_request.synchronize of one sha share one build, and the PR is attached",
    async run({ store }) {
      const push = await submitNew(store, { sha: sha("b") });
      const sync = existing(await store.submit(buildRequest({ sha: sha("b"), trigger: "pull_request", pr: pr(7), fetchRef: "refs/pull/7/head" })));
      assert.equal(sync.id, push.id);
      assert.equal(sync.request.pr?.number, 7, "the answer already carries the PR");
      const stored = await mustGet(store, push.id);
      assert.equal(stored.request.pr?.number, 7);
      assert.equal(stored.request.fetchRef, "refs/pull/7/head", "the build had no fetchRef: it takes the PR's");
      assert.equal(stored.request.trigger, "push", "the rest of the request stays the push's");
      assert.equal((await store.prForSha("octo", "app", sha("b")))?.number, 7);
      // A second PR of the sha shares the build too; the build keeps its first PR, the sha records the latest.
      assert.equal(existing(await store.submit(buildRequest({ sha: sha("b"), trigger: "pull_request", pr: pr(8) }))).id, push.id);
      assert.equal((await mustGet(store, push.id)).request.pr?.number, 7);
      assert.equal((await store.prForSha("octo", "app", sha("b")))?.number, 8);
      assert.equal(await store.prForSha("octo", "app", sha("c")), null);
    },
  },
  {
    name: "a sha's build is shared even after it finished; an explicit re-run builds it again as a new attempt",
    async run({ store }) {
      const first = await submitNew(store, {}, T0);
      assert.equal(first.attempt, 0);
      assert.equal(await store.complete(first.id, "success", emptyOutcome("success", "ok"), T0 + 1), true);
      assert.equal(existing(await store.submit(buildRequest(), T0 + 2)).id, first.id, "no new build for a sha already built");
      const again = created(await store.submit(buildRequest({ rerun: true, trigger: "check_run_rerequested" }), T0 + 3));
      assert.notEqual(again.build.id, first.id);
      assert.equal(again.build.attempt, 1);
      assert.equal(again.build.state, "queued");
      assert.equal(again.build.createdAt, T0 + 3);
      assert.equal((await store.latestBuildForSha("octo", "app", sha("a"), true))?.id, again.build.id);
      const third = created(await store.submit(buildRequest({ rerun: true, trigger: "rebuild_comment" }), T0 + 4));
      assert.equal(third.build.attempt, 2);
      assert.deepEqual([third.supersededQueued, third.supersededRunning], [[], []], "a re-run of a sha supersedes nothing of that sha");
      assert.equal((await mustGet(store, again.build.id)).state, "queued");
    },
  },
  {
    name: "one build per (owner, repo, sha): other repositories build the same sha on their own",
    async run({ store }) {
      const a = await submitNew(store, { sha: sha("d") });
      const b = await submitNew(store, { sha: sha("d"), repo: "other" });
      const c = await submitNew(store, { sha: sha("d"), owner: "someone" });
      assert.equal(new Set([a.id, b.id, c.id]).size, 3);
      assert.deepEqual([a.attempt, b.attempt, c.attempt], [0, 0, 0]);
      assert.equal((await store.latestBuildForSha("octo", "other", sha("d"), true))?.id, b.id);
      assert.equal(await store.latestBuildForSha("octo", "app", sha("e"), true), null);
      assert.equal(await store.latestBuildForSha("octo", "app", sha("d"), false), null);
    },
  },
  {
    name: "one build per sha within a trust level; the levels never share; re-runs of both levels coexist",
    async run({ store }) {
      const push = await submitNew(store, { sha: sha("e"), branch: "main" });
      const same = existing(await store.submit(buildRequest({ sha: sha("e"), trigger: "pull_request", pr: pr(7) })));
      const fork = created(await store.submit(forkRequest(8, { sha: sha("e") }))).build;
      assert.equal(same.id, push.id, "a same-repo PR still shares the push's build");
      assert.notEqual(fork.id, push.id);
      assert.equal((await mustGet(store, push.id)).request.pr?.fork, false, "the push's build never learns the fork's PR");
      assert.equal(existing(await store.submit(forkRequest(9, { sha: sha("e") }))).id, fork.id, "a second fork PR shares the fork build");
      const rerunFork = created(await store.submit(forkRequest(8, { sha: sha("e"), rerun: true, trigger: "check_run_rerequested" }))).build;
      const rerunPush = created(await store.submit(buildRequest({ sha: sha("e"), rerun: true, trigger: "check_run_rerequested", branch: "main" }))).build;
      assert.deepEqual([push.attempt, fork.attempt, rerunFork.attempt, rerunPush.attempt], [0, 1, 2, 3], "attempts count across both levels");
      assert.equal((await store.latestBuildForSha("octo", "app", sha("e"), true))?.id, rerunPush.id);
      assert.equal((await store.latestBuildForSha("octo", "app", sha("e"), false))?.id, rerunFork.id);
    },
  },
  {
    name: "a push of a sha a fork PR opened first is a build of its own, and the fork's build stays the fork's",
    async run({ store }) {
      const fork = created(await store.submit(forkRequest(32, { sha: sha("f") }))).build;
      const push = await submitNew(store, { sha: sha("f"), branch: "main" });
      assert.notEqual(push.id, fork.id);
      assert.equal(push.request.pr, null);
      assert.equal((await mustGet(store, fork.id)).request.pr?.fork, true);
      assert.equal((await mustGet(store, fork.id)).request.fetchRef, "refs/pull/32/head");
    },
  },
];
