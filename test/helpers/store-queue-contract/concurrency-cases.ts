import assert from "node:assert/strict";
import type { Queue } from "../../../src/core/queue.ts";
import type { BuildRecord } from "../../../src/core/build.ts";
import { buildRequest, sha } from "../build-requests.ts";
import { emptyOutcome } from "../../../src/core/build.ts";
import { type ContractCase, type StoreQueueBackend, type StoreQueueConnection, T0, created, mustGet, submitNew } from "./contract-case.ts";

/** Claims until the queue says no; the claims of two loops interleave as the backend lets them. */
async function drain(queue: Queue, workerId: string, maxRunning: number): Promise<BuildRecord[]> {
  const taken: BuildRecord[] = [];
  for (let b = await queue.claim({ workerId, leaseMs: 60_000, maxRunning, now: T0 + 1_000 }); b; b = await queue.claim({ workerId, leaseMs: 60_000, maxRunning, now: T0 + 1_000 })) {
    taken.push(b);
  }
  return taken;
}

async function withSecond(db: StoreQueueBackend, run: (second: StoreQueueConnection) => Promise<void>): Promise<void> {
  const second = await db.connect();
  try {
    await run(second);
  } finally {
    await second.close();
  }
}

/** `n` builds of distinct shas and branches, over three installations; `tag` keeps the shas of calls apart. */
async function submitMany(db: StoreQueueBackend, n: number, tag = 0): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push((await submitNew(db.store, { sha: `${tag}-${i}`.padStart(40, "c"), branch: `b${i}`, installationId: 1 + (i % 3) }, T0 + i)).id);
  }
  return out;
}

/** Two connections (two processes) over one database are one queue. */
export const concurrencyCases: ContractCase[] = [
  {
    name: "two workers on two connections never both claim one build",
    async run(db) {
      await withSecond(db, async (second) => {
        for (let round = 0; round < 3; round++) {
          const submitted = await submitMany(db, 40, round);
          const [a, b] = await Promise.all([drain(db.queue, "w1", 10_000), drain(second.queue, "w2", 10_000)]);
          const taken = [...a, ...b].map((x) => x.id);
          assert.equal(new Set(taken).size, taken.length, "a build claimed twice");
          assert.deepEqual(taken.sort(), [...submitted].sort());
          for (const [who, builds] of [["w1", a], ["w2", b]] as const) {
            for (const x of builds) assert.equal((await mustGet(db.store, x.id)).leaseOwner, who);
          }
          for (const id of submitted) await db.store.complete(id, "success", emptyOutcome("success", "ok"), T0 + 2_000);
        }
      });
    },
  },
  {
    name: "maxRunning holds across workers on two connections",
    async run(db) {
      await withSecond(db, async (second) => {
        await submitMany(db, 12);
        const [a, b] = await Promise.all([drain(db.queue, "w1", 4), drain(second.queue, "w2", 4)]);
        assert.equal(a.length + b.length, 4);
        assert.equal((await second.store.countByState()).running, 4);
        for (const x of [...a, ...b].slice(0, 2)) await second.store.complete(x.id, "success", emptyOutcome("success", "ok"), T0 + 2_000);
        const [c, d] = await Promise.all([drain(db.queue, "w1", 4), drain(second.queue, "w2", 4)]);
        assert.equal(c.length + d.length, 2);
        assert.equal((await db.store.countByState()).running, 4);
        assert.equal(await db.queue.depth(), 6);
      });
    },
  },
  {
    name: "one delivery or one sha submitted on two connections at once makes one build",
    async run(db) {
      await withSecond(db, async (second) => {
        const req = buildRequest({ sha: sha("1") });
        const both = await Promise.all([db.store.submit(req, T0), second.store.submit(req, T0)]);
        assert.deepEqual(both.map((r) => r.kind).sort(), ["created", "duplicate-delivery"]);
        const push = buildRequest({ sha: sha("2"), branch: "x" });
        const sync = buildRequest({ sha: sha("2"), branch: "x", trigger: "pull_request", pr: { number: 3, fork: false, headRepo: "octo/app", headRef: "x", baseRef: "main" } });
        const shared = await Promise.all([db.store.submit(push, T0 + 1), second.store.submit(sync, T0 + 1)]);
        assert.deepEqual(shared.map((r) => r.kind).sort(), ["created", "existing"]);
        const ids = shared.map((r) => (r.kind === "duplicate-delivery" ? null : r.build.id));
        assert.equal(ids[0], ids[1]);
        assert.equal((await db.store.getBuild(ids[0]!))?.request.pr?.number, 3, "whichever came first, the PR is attached");
      });
    },
  },
  {
    name: "what one connection writes, the other sees at once",
    async run(db) {
      await withSecond(db, async (second) => {
        const build = created(await second.store.submit(buildRequest({ sha: sha("1") }), T0));
        assert.equal((await db.queue.claim({ workerId: "w1", leaseMs: 10_000, maxRunning: 1, now: T0 + 1 }))?.id, build.build.id);
        await db.store.submit(buildRequest({ sha: sha("2") }), T0 + 2);
        assert.deepEqual(await second.queue.heartbeat(build.build.id, "w1", 10_000, T0 + 3), { held: true, cancelRequested: true });
        await second.store.appendLog(build.build.id, [{ ts: 1, stream: "stdout", text: "from the other side" }]);
        assert.deepEqual((await db.store.readLog(build.build.id)).map((l) => l.text), ["from the other side"]);
      });
    },
  },
];
