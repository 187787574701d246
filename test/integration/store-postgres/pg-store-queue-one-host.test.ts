import { after } from "node:test";
import { PgDatabase } from "../../../src/store/postgres/pg-database.ts";
import { migrate } from "../../../src/store/postgres/migrate.ts";
import { PgStore } from "../../../src/store/postgres/pg-store.ts";
import { PgQueue } from "../../../src/queue/postgres/pg-queue.ts";
import type { ClaimOptions, Queue } from "../../../src/core/queue.ts";
import { runStoreQueueContract } from "../../helpers/store-queue-contract.ts";
import { startPostgresCluster } from "../../helpers/postgres-cluster.ts";

const cluster = await startPostgresCluster();
after(() => cluster.stop());

/**
 * The whole contract again with cache affinity on, as main.ts runs it: every claim names one
 * host. With a single host nothing is left to another, so order, fairness, supersede and leases
 * must hold exactly as without a host id; the scope bookkeeping in the claim must not change them.
 */
function onOneHost(queue: PgQueue): Queue {
  return {
    claim: (o: ClaimOptions) => queue.claim({ ...o, hostId: "solo", affinityMs: 3_000 }),
    heartbeat: (...a) => queue.heartbeat(...a),
    recoverExpired: (...a) => queue.recoverExpired(...a),
    depth: () => queue.depth(),
  };
}

runStoreQueueContract("postgres, one host with cache affinity", async () => {
  const url = await cluster.database();
  const first = new PgDatabase(url);
  await migrate(first);
  return {
    store: new PgStore(first),
    queue: onOneHost(new PgQueue(first)),
    close: () => first.close(),
    connect: async () => {
      const db = new PgDatabase(url);
      return { store: new PgStore(db), queue: onOneHost(new PgQueue(db)), close: () => db.close() };
    },
  };
});
