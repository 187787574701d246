import { after } from "node:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../../src/queue/sqlite/sqlite-queue.ts";
import { runStoreQueueContract } from "../../helpers/store-queue-contract.ts";
import { sqliteWorkerConnection } from "../../helpers/sqlite-worker-connection.ts";

const dir = await mkdtemp(join(tmpdir(), "ms-store-contract-"));
after(() => rm(dir, { recursive: true, force: true }));
let n = 0;

// A data file as the app keeps one (WAL, synchronous FULL); the second connection lives in a
// worker thread, so its claims run beside the first's as another process's would.
runStoreQueueContract("sqlite", async () => {
  const path = join(dir, `db-${n++}`, "microship.sqlite");
  const sql = new SqliteDatabase(path);
  return {
    store: new SqliteStore(sql),
    queue: new SqliteQueue(sql),
    async close() {
      sql.close();
    },
    connect: () => sqliteWorkerConnection(path),
  };
});
