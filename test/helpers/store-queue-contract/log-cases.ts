import assert from "node:assert/strict";
import type { Store } from "../../../src/core/store.ts";
import { sha } from "../build-requests.ts";
import { emptyOutcome } from "../../../src/core/build.ts";
import { type ContractCase, submitNew } from "./contract-case.ts";

async function pages(store: Store, id: string, afterSeq: number, maxBytes: number): Promise<number[][]> {
  const out: number[][] = [];
  for (let page = await store.readLogPage(id, afterSeq, maxBytes); page; page = await store.readLogPage(id, page.lastSeq, maxBytes)) {
    out.push(page.lines.map((l) => l.ts));
  }
  return out;
}

/** Ten chunks of one line of about 1 KB, ts 0..9. */
async function tenChunks(store: Store, id: string): Promise<void> {
  for (let i = 0; i < 10; i++) await store.appendLog(id, [{ ts: i, stream: "stdout", text: `${i}`.padEnd(1000, ".") }]);
}

/** Build logs: chunks in order, pages, the tail, and retention. */
export const logCases: ContractCase[] = [
  {
    name: "logs are stored in order and read back whole, each build its own",
    async run({ store }) {
      const a = await submitNew(store, { sha: sha("1"), branch: "a" });
      const b = await submitNew(store, { sha: sha("2"), branch: "b" });
      await store.appendLog(a.id, [{ ts: 1, stream: "stdout", text: "one" }]);
      await store.appendLog(b.id, [{ ts: 9, stream: "stdout", text: "other" }]);
      await store.appendLog(a.id, []);
      await store.appendLog(a.id, [{ ts: 2, stream: "stderr", text: "two" }, { ts: 3, stream: "system", text: "three" }]);
      assert.deepEqual(await store.readLog(a.id), [
        { ts: 1, stream: "stdout", text: "one" },
        { ts: 2, stream: "stderr", text: "two" },
        { ts: 3, stream: "system", text: "three" },
      ]);
      assert.deepEqual((await store.readLog(b.id)).map((l) => l.text), ["other"]);
      assert.deepEqual(await store.readLog("no-such-build"), []);
    },
  },
  {
    name: "chunks are numbered from 0 per build, and an empty append stores none",
    async run({ store }) {
      const a = await submitNew(store, {});
      await store.appendLog(a.id, []);
      assert.equal(await store.readLogPage(a.id, -1, 1_000), null);
      for (let i = 0; i < 3; i++) await store.appendLog(a.id, [{ ts: i, stream: "stdout", text: `line ${i}` }]);
      assert.deepEqual(await store.readLogPage(a.id, -1, 1), { lastSeq: 0, lines: [{ ts: 0, stream: "stdout", text: "line 0" }] });
      assert.equal((await store.readLogPage(a.id, 0, 1_000))?.lastSeq, 2);
      assert.equal(await store.readLogPage(a.id, 2, 1_000), null);
    },
  },
  {
    name: "a log is read in pages of whole chunks, about maxBytes each, in order, and ends with null",
    async run({ store }) {
      const a = await submitNew(store, {});
      await tenChunks(store, a.id);
      const seen = await pages(store, a.id, -1, 2_500);
      assert.deepEqual(seen.flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.equal(seen.length, 5, "two chunks of about 1 KB a page");
      assert.equal((await store.readLogPage(a.id, -1, 1))?.lines.length, 1, "a chunk bigger than the page still comes, alone");
      assert.equal(await store.readLogPage("nope", -1, 1_000), null);
    },
  },
  {
    name: "a page holds at most 256 chunks",
    async run({ store }) {
      const a = await submitNew(store, {});
      for (let i = 0; i < 300; i++) await store.appendLog(a.id, [{ ts: i, stream: "stdout", text: "x" }]);
      assert.deepEqual((await pages(store, a.id, -1, 1e9)).map((p) => p.length), [256, 44]);
    },
  },
  {
    name: "logTail finds where the last maxBytes of a log begin",
    async run({ store }) {
      const a = await submitNew(store, {});
      await tenChunks(store, a.id);
      const all = await store.logTail(a.id, 1e9);
      assert.equal(all.afterSeq, -1);
      assert.equal(all.skippedBytes, 0);
      assert.ok(all.totalBytes >= 10_000 && all.totalBytes < 12_000, `about the text's size: ${all.totalBytes}`);
      const tail = await store.logTail(a.id, 3_500);
      assert.equal(tail.totalBytes, all.totalBytes);
      assert.equal(tail.afterSeq, 6, "chunks 7, 8 and 9 fit");
      assert.ok(tail.skippedBytes > all.totalBytes * 0.6 && tail.skippedBytes < all.totalBytes * 0.8, `seven chunks of ten skipped: ${tail.skippedBytes}`);
      assert.deepEqual((await pages(store, a.id, tail.afterSeq, 1e9)).flat(), [7, 8, 9]);
      assert.equal((await store.logTail(a.id, 1)).afterSeq, 8, "the newest chunk is always shown");
      assert.deepEqual(await store.logTail("no-such-build", 1_000), { afterSeq: -1, totalBytes: 0, skippedBytes: 0 });
    },
  },
  {
    name: "deleteLogsBefore deletes only finished builds' logs ended and written before the time, at most `limit` chunks a call",
    async run({ store }) {
      const old = await submitNew(store, { sha: sha("1"), branch: "a" }, 500);
      const recent = await submitNew(store, { sha: sha("2"), branch: "b" }, 500);
      const running = await submitNew(store, { sha: sha("3"), branch: "c" }, 500);
      const edge = await submitNew(store, { sha: sha("4"), branch: "d" }, 500);
      await store.complete(old.id, "success", emptyOutcome("success", "ok"), 1_000);
      await store.complete(recent.id, "success", emptyOutcome("success", "ok"), 5_000);
      await store.complete(edge.id, "success", emptyOutcome("success", "ok"), 2_000);
      for (const id of [old.id, recent.id, running.id, edge.id]) {
        for (let i = 0; i < 3; i++) await store.appendLog(id, [{ ts: i, stream: "stdout", text: "line" }], 600 + i);
      }
      assert.equal(await store.deleteLogsBefore(2_000, 2), 2);
      assert.equal(await store.deleteLogsBefore(2_000, 2), 1);
      assert.equal(await store.deleteLogsBefore(2_000, 2), 0);
      assert.deepEqual(await store.readLog(old.id), []);
      assert.equal((await store.readLog(recent.id)).length, 3);
      assert.equal((await store.readLog(edge.id)).length, 3, "ended at the time itself: not before it");
      assert.equal((await store.readLog(running.id)).length, 3, "a build still running keeps its log");
    },
  },
  {
    name: "a build cancelled while queued has ended, for log retention",
    async run({ store }) {
      const old = await submitNew(store, { sha: sha("1") }, 1_000);
      await store.appendLog(old.id, [{ ts: 0, stream: "system", text: "queued" }], 1_000);
      await submitNew(store, { sha: sha("2") }, 1_500);
      assert.equal(await store.deleteLogsBefore(2_000, 10), 1);
      assert.deepEqual(await store.readLog(old.id), []);
    },
  },
  {
    name: "a log written after its build ended (a later deploy of its image) is kept from that write on; one untouched since before the time goes",
    async run({ store }) {
      const DAY = 86_400_000;
      const redeployed = await submitNew(store, { sha: sha("1"), branch: "a" }, DAY);
      const untouched = await submitNew(store, { sha: sha("2"), branch: "b" }, DAY);
      for (const b of [redeployed, untouched]) {
        await store.appendLog(b.id, [{ ts: 1, stream: "stdout", text: "built" }], DAY + 1);
        await store.complete(b.id, "success", emptyOutcome("success", "ok"), 2 * DAY);
        await store.appendLog(b.id, [{ ts: 2, stream: "system", text: "pushed" }], 2 * DAY + 1);
      }
      // A rollback to the image 29 days after its build, writing to that build's log.
      await store.appendLog(redeployed.id, [{ ts: 3, stream: "system", text: "--- Rolled back ---" }], 31 * DAY);
      assert.equal(await store.deleteLogsBefore(3 * DAY, 10), 2, "the cutoff is after both builds ended");
      assert.deepEqual((await store.readLog(redeployed.id)).map((l) => l.text), ["built", "pushed", "--- Rolled back ---"]);
      assert.deepEqual(await store.readLog(untouched.id), []);
      assert.equal(await store.deleteLogsBefore(31 * DAY, 10), 0, "written at the cutoff itself: not before it");
      await store.appendLog(untouched.id, [{ ts: 4, stream: "system", text: "deployed again" }], 40 * DAY);
      assert.equal(await store.deleteLogsBefore(40 * DAY + 1, 10), 4, "each goes once its last write is before the cutoff, whole");
      assert.deepEqual(await store.readLog(redeployed.id), []);
      assert.deepEqual(await store.readLog(untouched.id), []);
      assert.equal(await store.deleteLogsBefore(50 * DAY, 10), 0);
    },
  },
  {
    name: "a log's last write moves on with each write a minute or more after the one noted, never back",
    async run({ store }) {
      const DAY = 86_400_000;
      const b = await submitNew(store, { sha: sha("1") }, DAY);
      await store.complete(b.id, "success", emptyOutcome("success", "ok"), DAY);
      await store.appendLog(b.id, [{ ts: 1, stream: "system", text: "one" }], 10 * DAY);
      await store.appendLog(b.id, [{ ts: 2, stream: "system", text: "late writer" }], 5 * DAY);
      await store.appendLog(b.id, [{ ts: 3, stream: "system", text: "same minute" }], 10 * DAY + 30_000);
      assert.equal(await store.deleteLogsBefore(10 * DAY, 10), 0, "an older time never moves it back");
      assert.equal(await store.deleteLogsBefore(10 * DAY + 1, 10), 3, "within the minute it stays where it was");
    },
  },
];
