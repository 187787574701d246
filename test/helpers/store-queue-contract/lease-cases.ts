import assert from "node:assert/strict";
import { buildRequest, sha } from "../build-requests.ts";
import { emptyOutcome } from "../../../src/core/build.ts";
import { type ContractCase, T0, claim, ids, mustGet, pr, submitNew } from "./contract-case.ts";

const LEASE = 1_000;

/** Leases, heartbeats and recovery (core/queue.ts). */
export const leaseCases: ContractCase[] = [
  {
    name: "a lease lapses only once its expiry has passed",
    async run({ store, queue }) {
      const build = await submitNew(store, {}, T0);
      await claim(queue, "w", T0, 1, LEASE);
      assert.deepEqual(await queue.recoverExpired(2, T0 + LEASE), { requeued: [], abandoned: [] }, "at the expiry it still holds");
      assert.equal((await mustGet(store, build.id)).state, "running");
      assert.deepEqual(ids((await queue.recoverExpired(2, T0 + LEASE + 1)).requeued), [build.id]);
    },
  },
  {
    name: "a heartbeat renews the lease its worker holds, and only that worker's",
    async run({ store, queue }) {
      const build = await submitNew(store, {}, T0);
      await claim(queue, "w1", T0, 1, LEASE);
      assert.deepEqual(await queue.heartbeat(build.id, "w1", LEASE, T0 + 900), { held: true, cancelRequested: false });
      assert.equal((await mustGet(store, build.id)).leaseExpiresAt, T0 + 900 + LEASE);
      assert.deepEqual(await queue.recoverExpired(2, T0 + 1_500), { requeued: [], abandoned: [] }, "renewed past the first expiry");
      assert.equal((await queue.heartbeat(build.id, "w2", LEASE, T0 + 1_600)).held, false, "not w2's lease");
      const after = await mustGet(store, build.id);
      assert.equal(after.leaseOwner, "w1");
      assert.equal(after.leaseExpiresAt, T0 + 900 + LEASE, "w2's heartbeat changed nothing");
      await store.complete(build.id, "success", emptyOutcome("success", "ok"), T0 + 1_700);
      assert.equal((await queue.heartbeat(build.id, "w1", LEASE, T0 + 1_800)).held, false, "a finished build holds no lease");
      const done = await mustGet(store, build.id);
      assert.deepEqual([done.leaseOwner, done.leaseExpiresAt], [null, null]);
      assert.deepEqual(await queue.heartbeat("no-such-build", "w1", LEASE, T0), { held: false, cancelRequested: false });
    },
  },
  {
    name: "a heartbeat tells a running build that it was asked to stop: superseded, or its PR closed",
    async run({ store, queue }) {
      const branch = await submitNew(store, { sha: sha("1"), branch: "a" }, T0);
      const prBuild = await submitNew(store, { sha: sha("2"), branch: "b", trigger: "pull_request", pr: pr(4) }, T0 + 1);
      await claim(queue, "w", T0 + 2);
      await claim(queue, "w", T0 + 3);
      await store.submit(buildRequest({ sha: sha("3"), branch: "a" }), T0 + 4);
      await store.cancelPullRequest("octo", "app", 4, T0 + 5);
      for (const id of [branch.id, prBuild.id]) assert.deepEqual(await queue.heartbeat(id, "w", LEASE, T0 + 6), { held: true, cancelRequested: true });
    },
  },
  {
    name: "a lapsed lease is requeued once, then abandoned so its check run can be concluded",
    async run({ store, queue }) {
      const build = await submitNew(store, {}, T0);
      await claim(queue, "dead", T0, 1, LEASE);
      let r = await queue.recoverExpired(2, T0 + 5_000);
      assert.deepEqual(ids(r.requeued), [build.id]);
      assert.deepEqual(r.abandoned, []);
      assert.deepEqual([r.requeued[0]!.state, r.requeued[0]!.leaseOwner, r.requeued[0]!.leaseExpiresAt], ["queued", null, null]);
      assert.equal((await mustGet(store, build.id)).state, "queued");
      const again = await claim(queue, "w2", T0 + 6_000, 1, LEASE);
      assert.equal(again?.tries, 2);
      assert.equal(again?.startedAt, T0, "started when first taken");
      assert.equal((await queue.heartbeat(build.id, "dead", LEASE, T0 + 6_000)).held, false, "the dead worker's lease is gone");
      r = await queue.recoverExpired(2, T0 + 20_000);
      assert.deepEqual(ids(r.abandoned), [build.id]);
      assert.deepEqual(r.requeued, []);
      assert.deepEqual(await queue.recoverExpired(2, T0 + 50_000), { requeued: [], abandoned: [] }, "recovery holds it for a minute");
      assert.deepEqual(ids((await queue.recoverExpired(2, T0 + 81_000)).abandoned), [build.id], "never concluded: found again");
      await store.complete(build.id, "failure", emptyOutcome("failure", "interrupted"), T0 + 82_000);
      assert.deepEqual(await queue.recoverExpired(2, T0 + 200_000), { requeued: [], abandoned: [] });
    },
  },
  {
    name: "a lapsed build that was asked to stop is abandoned, not requeued",
    async run({ store, queue }) {
      const old = await submitNew(store, { sha: sha("1") }, T0);
      await claim(queue, "dead", T0, 1, LEASE);
      const newer = await submitNew(store, { sha: sha("2") }, T0 + 1);
      const r = await queue.recoverExpired(5, T0 + 5_000);
      assert.deepEqual(ids(r.abandoned), [old.id]);
      assert.deepEqual(r.requeued, []);
      assert.equal((await mustGet(store, newer.id)).state, "queued");
    },
  },
  {
    name: "recovery renews the leases its caller still runs and holds, and requeues the rest",
    async run({ store, queue }) {
      const mine = await submitNew(store, { sha: sha("1"), branch: "a" }, T0);
      const mineUnlisted = await submitNew(store, { sha: sha("2"), branch: "b" }, T0 + 1);
      const theirs = await submitNew(store, { sha: sha("3"), branch: "c" }, T0 + 2);
      await claim(queue, "w1", T0 + 3, 10, LEASE);
      await claim(queue, "w1", T0 + 4, 10, LEASE);
      await claim(queue, "w2", T0 + 5, 10, LEASE);
      const r = await queue.recoverExpired(2, T0 + 10_000, { workerId: "w1", buildIds: [mine.id, theirs.id], leaseMs: 7_000 });
      assert.deepEqual(ids(r.requeued), ids([mineUnlisted, theirs]), "listed but held by another worker: not ours to renew");
      assert.deepEqual(r.abandoned, []);
      const renewed = await mustGet(store, mine.id);
      assert.deepEqual([renewed.state, renewed.leaseOwner, renewed.leaseExpiresAt, renewed.tries], ["running", "w1", T0 + 17_000, 1]);
      assert.deepEqual(await queue.recoverExpired(2, T0 + 16_000), { requeued: [], abandoned: [] });
    },
  },
];
