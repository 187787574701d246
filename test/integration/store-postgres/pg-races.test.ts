import { after, test } from "node:test";
import assert from "node:assert/strict";
import { PgDatabase } from "../../../src/store/postgres/pg-database.ts";
import { migrate } from "../../../src/store/postgres/migrate.ts";
import { PgStore } from "../../../src/store/postgres/pg-store.ts";
import { PgQueue } from "../../../src/queue/postgres/pg-queue.ts";
import { buildRequest } from "../../helpers/build-requests.ts";
import { startPostgresCluster } from "../../helpers/postgres-cluster.ts";

const cluster = await startPostgresCluster();
after(() => cluster.stop());

const sha = (i: number) => i.toString(16).padStart(40, "0");

test("pushes to one branch submitted at once on two replicas, while both claim: one build is left standing", async () => {
  const url = await cluster.database();
  const a = new PgDatabase(url);
  const b = new PgDatabase(url);
  try {
    await migrate(a);
    const replicas = [a, b].map((db) => ({ store: new PgStore(db), queue: new PgQueue(db) }));
    for (let round = 0; round < 3; round++) {
      const pushes = Array.from({ length: 12 }, (_, i) => replicas[i % 2]!.store.submit(buildRequest({ sha: sha(round * 100 + i), branch: `topic-${round}` }), 1_000 + i));
      const claims = Array.from({ length: 6 }, (_, i) => replicas[i % 2]!.queue.claim({ workerId: `w${i % 2}`, leaseMs: 60_000, maxRunning: 100, now: 1_000 }));
      const results = await Promise.all(pushes);
      await Promise.all(claims);
      assert.ok(results.every((r) => r.kind === "created"));
      const rows = (await a.query("SELECT state, cancel_requested, superseded_by FROM builds WHERE branch = $1", [`topic-${round}`])).rows;
      const standing = rows.filter((r) => r.state !== "completed" && !r.cancel_requested);
      assert.equal(standing.length, 1, `round ${round}: one build neither ended nor asked to stop, of ${JSON.stringify(rows)}`);
      assert.equal(rows.filter((r) => r.superseded_by === null).length, 1, "every other one names what replaced it");
    }
  } finally {
    await a.close();
    await b.close();
  }
});
