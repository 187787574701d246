import { after } from "node:test";
import { PgDatabase } from "../../../src/store/postgres/pg-database.ts";
import { migrate } from "../../../src/store/postgres/migrate.ts";
import { PgStore } from "../../../src/store/postgres/pg-store.ts";
import { PgQueue } from "../../../src/queue/postgres/pg-queue.ts";
import { runStoreQueueContract } from "../../helpers/store-queue-contract.ts";
import { startPostgresCluster } from "../../helpers/postgres-cluster.ts";

const cluster = await startPostgresCluster();
after(() => cluster.stop());

function connection(url: string) {
  const db = new PgDatabase(url);
  return { store: new PgStore(db), queue: new PgQueue(db), close: () => db.close() };
}

// Each case gets a database of its own; the second connection is a pool of its own over it, so
// its claims and submits race the first's on the server, as another replica's would.
runStoreQueueContract("postgres", async () => {
  const url = await cluster.database();
  const first = new PgDatabase(url);
  await migrate(first);
  return {
    store: new PgStore(first),
    queue: new PgQueue(first),
    close: () => first.close(),
    connect: async () => connection(url),
  };
});
