import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { BuildLog, DEFAULT_LOG_MAX_BYTES } from "../../src/core/build-log.ts";
import { LineSplitter } from "../../src/builder/log-lines.ts";
import { MAX_LINE_CHARS } from "../../src/core/log-text.ts";
import { SqliteDatabase } from "../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.ts";
import type { LogLine } from "../../src/core/builder.ts";
import type { Store } from "../../src/core/store.ts";

const MiB = 1024 * 1024;

// A collection now and then, so RSS shows what the code keeps rather than V8's lazy heap growth
// (splitting 1 GB into lines and dropping them all grows RSS by over 100 MiB before V8 collects).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** The real SQLite store, counting the bytes it is given (it stores each batch as JSON). */
function countingStore() {
  const real = new SqliteStore(new SqliteDatabase(":memory:"));
  const seen = { bytes: 0, lines: 0, last: null as LogLine | null };
  const store = {
    async appendLog(id: string, lines: LogLine[]) {
      seen.bytes += JSON.stringify(lines).length;
      seen.lines += lines.length;
      seen.last = lines.at(-1) ?? seen.last;
      await real.appendLog(id, lines);
    },
    readLog: (id: string) => real.readLog(id),
  } as unknown as Store;
  return { store, seen };
}

/** Counts what it is given and keeps only microship's own lines: memory stays the code's, not the store's. */
function tallyStore() {
  const seen = { bytes: 0, lines: 0, system: [] as string[], scrubbed: true, last: null as LogLine | null };
  const store = {
    async appendLog(_id: string, lines: LogLine[]) {
      seen.bytes += JSON.stringify(lines).length;
      seen.lines += lines.length;
      for (const l of lines) {
        if (l.stream === "system") seen.system.push(l.text);
        if (l.text.includes("abcdefghijklmnop")) seen.scrubbed = false;
      }
      seen.last = lines.at(-1) ?? seen.last;
    },
  } as unknown as Store;
  return { store, seen };
}

/** Rejections nobody handled while `fn` ran: the old flush crashed the app with one. */
async function unhandledDuring(fn: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  process.on("unhandledRejection", onRejection);
  try {
    await fn();
    await tick();
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  return seen;
}

const tailChars = (lines: LogLine[]) => lines.reduce((n, l) => n + l.text.length, 0);

test("60 lines of 10 MiB: stored and kept bytes are bounded, and the final flush does not throw", async (t) => {
  const { store, seen } = countingStore();
  const log = new BuildLog(store, "b-60x10");
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const unhandled = await unhandledDuring(async () => {
    for (let i = 0; i < 60; i++) log.add({ ts: i, stream: "stdout", text: String(i % 10).repeat(10 * MiB) });
    await log.flush();
  });
  gc();
  const kept = process.memoryUsage().heapUsed - heap0;
  t.diagnostic(`heap kept after 600 MiB of lines: ${Math.round(kept / MiB)} MiB`);
  // The old log kept all 600 MiB in its tail, then threw a RangeError from a flush nobody awaited.
  assert.ok(kept < 32 * MiB, `${Math.round(kept / MiB)} MiB kept`);
  assert.deepEqual(unhandled, []);
  // Each line is cut to 64 KiB with a marker; nothing near 600 MB reaches JSON.stringify or SQLite.
  assert.ok(seen.bytes < 60 * (MAX_LINE_CHARS + 200), `${seen.bytes} bytes stored`);
  assert.equal(seen.lines, 60);
  const tail = log.tail();
  assert.ok(tailChars(tail) <= 1.1 * MiB, `${tailChars(tail)} chars in the tail`);
  assert.match(tail.at(-1)!.text, / … \[line cut: \d+ bytes\]$/);
});

test("a store that fails is reported once through onError, never as an unhandled rejection", async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const broken = { appendLog: async () => { calls++; throw new RangeError("Invalid string length"); } } as unknown as Store;
  const throwsSync = { appendLog: () => { throw new Error("disk I/O error"); } } as unknown as Store;
  const unhandled = await unhandledDuring(async () => {
    for (const store of [broken, throwsSync]) {
      const log = new BuildLog(store, "b-broken", { onError: (e) => errors.push(e) });
      for (let i = 0; i < 1_200; i++) log.add({ ts: i, stream: "stdout", text: `line ${i}` });
      await log.flush();
      await log.flush();
    }
  });
  assert.deepEqual(unhandled, []);
  assert.ok(calls >= 3, "later batches are still tried");
  assert.equal(errors.length, 2, "one report per log");
});

test("a 64 MiB line without a newline stores one cut line", async () => {
  const { store, seen } = countingStore();
  const log = new BuildLog(store, "b-64m");
  const splitter = new LineSplitter("stdout", (l) => log.add(l));
  const chunk = Buffer.alloc(MiB, "z");
  for (let i = 0; i < 64; i++) splitter.write(chunk);
  splitter.end();
  await log.flush();
  assert.equal(seen.lines, 1);
  assert.ok(seen.bytes < MAX_LINE_CHARS + 200);
  assert.ok(log.tail()[0]!.text.endsWith(`[line cut: ${64 * MiB - MAX_LINE_CHARS} bytes]`));
});

test("a 1 GB log stores at most the cap, says so once, keeps its tail moving, and stays small in memory", async (t) => {
  const { store, seen } = tallyStore();
  const errors: unknown[] = [];
  const log = new BuildLog(store, "b-1g", { onError: (e) => errors.push(e) });
  const splitter = new LineSplitter("stdout", (l) => log.add(l));
  // 1 MiB of 128-byte lines, made once and sent 1,000 times: the log is never held whole.
  const line = "step 42: compiling a very chatty dependency, with secrets like token abcdefghijklmnopqrstuvwx; ok".padEnd(127, ".") + "\n";
  const chunk = Buffer.from(line.repeat(MiB / 128));
  gc();
  const rss0 = process.memoryUsage.rss();
  const heap0 = process.memoryUsage().heapUsed;
  let peak = rss0;
  let kept = 0;
  const unhandled = await unhandledDuring(async () => {
    for (let i = 0; i < 1000; i++) {
      splitter.write(chunk);
      if (i % 16 === 0) {
        peak = Math.max(peak, process.memoryUsage.rss());
        await tick();
      }
      if (i % 64 === 0) {
        gc();
        kept = Math.max(kept, process.memoryUsage().heapUsed - heap0);
      }
    }
    splitter.write("the last line of the build\n");
    splitter.end();
    log.system("Build failed: exit code 1");
    await log.flush();
  });
  peak = Math.max(peak, process.memoryUsage.rss());
  assert.deepEqual(unhandled, []);
  assert.deepEqual(errors, []);
  assert.ok(seen.bytes <= DEFAULT_LOG_MAX_BYTES + 512 * 1024, `${seen.bytes} bytes stored`);
  assert.ok(seen.bytes >= DEFAULT_LOG_MAX_BYTES * 0.9, "the cap is the default 50 MB");
  assert.deepEqual(seen.system, ["log truncated at 50 MB; the build goes on", "Build failed: exit code 1"], "microship's own last line is still stored");
  assert.ok(seen.scrubbed, "what is stored is scrubbed");
  const tail = log.tail();
  assert.ok(tail.length <= 2_000);
  assert.deepEqual(tail.slice(-2).map((l) => l.text), ["the last line of the build", "Build failed: exit code 1"]);
  assert.ok(!tail.some((l) => l.text.includes("abcdefghijklmnop")), "the tail is scrubbed, even past the cap");
  t.diagnostic(`RSS grew by ${Math.round((peak - rss0) / MiB)} MiB, live heap by ${Math.round(kept / MiB)} MiB; ${seen.bytes} bytes stored`);
  assert.ok(kept < 32 * MiB, `live heap grew by ${Math.round(kept / MiB)} MiB`);
  assert.ok(peak - rss0 < 200 * MiB, `RSS grew by ${Math.round((peak - rss0) / MiB)} MiB`);
});

test("the cap is an option, and lines past it leave storage but not the tail", async () => {
  const { store, seen } = countingStore();
  const log = new BuildLog(store, "b-small", { maxBytes: 10_000 });
  for (let i = 0; i < 1_000; i++) log.add({ ts: i, stream: "stderr", text: `warning ${i}` });
  await log.flush();
  assert.ok(seen.bytes < 10_000 + 200);
  assert.equal(seen.last?.text, "log truncated at 0 MB; the build goes on".replace("0 MB", `${Math.round(10_000 / 1_000_000)} MB`));
  assert.equal(log.tail().at(-1)!.text, "warning 999");
  assert.equal(log.count, 1_000);
});
