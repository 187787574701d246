/**
 * A worker thread holding its own connection to a SQLite data file, so the Store and Queue
 * contract's "second connection" races the first for real (node:sqlite answers synchronously:
 * two connections in one thread would take turns). Answers { id, target, method, args } calls.
 */
import { parentPort, workerData } from "node:worker_threads";
import { SqliteDatabase } from "../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../src/queue/sqlite/sqlite-queue.ts";

const sql = new SqliteDatabase(String(workerData.path));
const targets: Record<string, Record<string, (...args: unknown[]) => Promise<unknown>>> = {
  store: new SqliteStore(sql) as never,
  queue: new SqliteQueue(sql) as never,
};

parentPort!.on("message", async (call: { id: number; target: string; method: string; args: unknown[] }) => {
  try {
    const value = await targets[call.target]![call.method]!(...call.args);
    parentPort!.postMessage({ id: call.id, ok: true, value });
  } catch (err) {
    parentPort!.postMessage({ id: call.id, ok: false, error: err instanceof Error ? err.stack : String(err) });
  }
});
