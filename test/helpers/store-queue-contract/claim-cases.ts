import assert from "node:assert/strict";
import { buildRequest, sha } from "../build-requests.ts";
import { emptyOutcome } from "../../../src/core/build.ts";
import { type ContractCase, T0, claim, mustGet, submitNew } from "./contract-case.ts";

/** What a claim takes, and in which order (core/queue.ts). */
export const claimCases: ContractCase[] = [
  {
    name: "claims respect the concurrency limit and are fair across installations",
    async run({ store, queue }) {
      for (let i = 0; i < 3; i++) await store.submit(buildRequest({ sha: sha(String(i)), branch: `b${i}`, installationId: 1 }), T0 + i);
      await store.submit(buildRequest({ sha: sha("9"), branch: "x", installationId: 2, owner: "other" }), T0 + 10);
      const first = await claim(queue, "w", T0 + 20, 2);
      const second = await claim(queue, "w", T0 + 21, 2);
      assert.equal(first?.request.installationId, 1);
      assert.equal(second?.request.installationId, 2, "the idle installation goes before the busy one's older jobs");
      assert.equal(await claim(queue, "w", T0 + 22, 2), null);
      assert.equal(await queue.depth(), 2);
      assert.equal((await claim(queue, "w", T0 + 23, 3))?.request.sha, sha("1"), "a higher limit lets the next one run");
    },
  },
  {
    name: "among equally busy installations the oldest build goes first",
    async run({ store, queue }) {
      const late = await submitNew(store, { sha: sha("1"), branch: "a" }, T0 + 300);
      const early = await submitNew(store, { sha: sha("2"), branch: "b" }, T0 + 100);
      const middle = await submitNew(store, { sha: sha("3"), branch: "c", installationId: 2 }, T0 + 200);
      assert.equal((await claim(queue, "w", T0 + 400))?.id, early.id);
      assert.equal((await claim(queue, "w", T0 + 401))?.id, middle.id, "installation 2 runs nothing yet");
      assert.equal((await claim(queue, "w", T0 + 402))?.id, late.id);
    },
  },
  {
    name: "fairness counts running builds, not queued or finished ones",
    async run({ store, queue }) {
      const busy1 = await submitNew(store, { sha: sha("1"), branch: "a", installationId: 1 }, T0);
      const done2 = await submitNew(store, { sha: sha("2"), branch: "b", installationId: 2 }, T0 + 1);
      const next1 = await submitNew(store, { sha: sha("3"), branch: "c", installationId: 1 }, T0 + 2);
      const next2 = await submitNew(store, { sha: sha("4"), branch: "d", installationId: 2 }, T0 + 3);
      await submitNew(store, { sha: sha("5"), branch: "e", installationId: 2 }, T0 + 4);
      assert.equal((await claim(queue, "w", T0 + 5))?.id, busy1.id);
      assert.equal((await claim(queue, "w", T0 + 6))?.id, done2.id, "installation 2 runs nothing: it goes first");
      await store.complete(done2.id, "success", emptyOutcome("success", "ok"), T0 + 7);
      assert.equal((await claim(queue, "w", T0 + 8))?.id, next2.id, "its finished build no longer counts");
      assert.equal((await claim(queue, "w", T0 + 9))?.id, next1.id, "one running each: the oldest");
    },
  },
  {
    name: "nothing queued, nothing claimed: finished and superseded builds are never taken",
    async run({ store, queue }) {
      assert.equal(await claim(queue, "w"), null);
      const done = await submitNew(store, { sha: sha("1"), branch: "a" }, T0);
      await store.complete(done.id, "failure", emptyOutcome("failure", "no"), T0 + 1);
      await submitNew(store, { sha: sha("2"), branch: "b" }, T0 + 2);
      const newer = await submitNew(store, { sha: sha("3"), branch: "b" }, T0 + 3);
      assert.equal(await queue.depth(), 1);
      assert.equal((await claim(queue, "w", T0 + 4))?.id, newer.id);
      assert.equal(await claim(queue, "w", T0 + 5), null);
      assert.equal(await queue.depth(), 0);
    },
  },
  {
    name: "a claim leases the build: running, its owner, the expiry, one more try, the start",
    async run({ store, queue }) {
      const build = await submitNew(store, {}, T0);
      const taken = await queue.claim({ workerId: "w1", leaseMs: 5_000, maxRunning: 1, now: T0 + 10 });
      assert.equal(taken?.id, build.id);
      for (const b of [taken!, await mustGet(store, build.id)]) {
        assert.equal(b.state, "running");
        assert.equal(b.leaseOwner, "w1");
        assert.equal(b.leaseExpiresAt, T0 + 5_010);
        assert.equal(b.tries, 1);
        assert.equal(b.startedAt, T0 + 10);
        assert.equal(b.createdAt, T0);
      }
      const counts = await store.countByState();
      assert.deepEqual([counts.running, counts.queued ?? 0, counts.completed ?? 0], [1, 0, 0]);
      assert.equal(await queue.depth(), 0);
    },
  },
];
