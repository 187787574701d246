import { after, test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import { PgDatabase } from "../../../src/store/postgres/pg-database.ts";
import { migrate } from "../../../src/store/postgres/migrate.ts";
import { PgStore } from "../../../src/store/postgres/pg-store.ts";
import { PgQueue } from "../../../src/queue/postgres/pg-queue.ts";
import { PgNotifications } from "../../../src/store/postgres/pg-notifications.ts";
import { emptyOutcome } from "../../../src/core/build.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";
import { startPostgresCluster } from "../../helpers/postgres-cluster.ts";
import type { OpLog } from "../../../src/core/ports.ts";

const cluster = await startPostgresCluster();
after(() => cluster.stop());

/** The event, or a failure after long enough that only a lost notification explains it. */
const arrives = (events: EventEmitter, name: string) => once(events, name, { signal: AbortSignal.timeout(20_000) });

const quiet: OpLog = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet };

/** Replica A listens; replica B (a pool of its own) writes. Events arrive in order on one emitter. */
async function twoReplicas() {
  const url = await cluster.database();
  const b = new PgDatabase(url);
  await migrate(b);
  const listener = new PgNotifications(url, quiet);
  await listener.start();
  const events = new EventEmitter();
  listener.onWake(() => events.emit("wake"));
  listener.onCancel((id) => events.emit("cancel", id));
  return {
    url, events, listener, store: new PgStore(b), queue: new PgQueue(b), db: b,
    async close() {
      await listener.close();
      await b.close();
    },
  };
}

test("a submit on one replica wakes the workers of another; a share or a duplicate does not", async () => {
  const r = await twoReplicas();
  try {
    let wakes = 0;
    r.events.on("wake", () => wakes++);
    const woken = arrives(r.events, "wake");
    const req = buildRequest({ sha: sha("1") });
    assert.equal((await r.store.submit(req)).kind, "created");
    await woken;
    assert.equal((await r.store.submit(req)).kind, "duplicate-delivery");
    assert.equal((await r.store.submit(buildRequest({ sha: sha("1") }))).kind, "existing");
    // A marker sent after them: once it arrives, anything they sent has arrived too.
    const marker = arrives(r.events, "wake");
    await r.db.query("NOTIFY microship_wake");
    await marker;
    assert.equal(wakes, 2, "the created build and the marker only");
  } finally {
    await r.close();
  }
});

test("a completed build frees a slot: waiting replicas are woken", async () => {
  const r = await twoReplicas();
  try {
    const build = await r.store.submit(buildRequest({ sha: sha("1") }));
    assert.equal(build.kind, "created");
    await r.queue.claim({ workerId: "w", leaseMs: 10_000, maxRunning: 1 });
    const woken = arrives(r.events, "wake");
    await r.store.complete((build as { build: { id: string } }).build.id, "success", emptyOutcome("success", "ok"));
    await woken;
  } finally {
    await r.close();
  }
});

test("a running build superseded on one replica is named to the others at once; junk on the channel is ignored", async () => {
  const r = await twoReplicas();
  try {
    const cancelled: string[] = [];
    r.events.on("cancel", (id: string) => cancelled.push(id));
    const old = await r.store.submit(buildRequest({ sha: sha("1"), branch: "topic" }));
    await r.queue.claim({ workerId: "w", leaseMs: 10_000, maxRunning: 1 });
    await r.db.query("SELECT pg_notify('microship_cancel', $1)", ["'; DROP TABLE builds; --"]);
    const named = arrives(r.events, "cancel");
    await r.store.submit(buildRequest({ sha: sha("2"), branch: "topic" }));
    await named;
    assert.deepEqual(cancelled, [(old as { build: { id: string } }).build.id]);
  } finally {
    await r.close();
  }
});

test("the listener comes back after its connection is killed", async () => {
  const r = await twoReplicas();
  try {
    const killed = await r.db.query("SELECT pid, pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()");
    assert.equal(killed.rowCount, 1, "the listening connection was found and killed");
    // Reconnecting takes about a second; until then a wake may be lost, which polling covers.
    // Listening again means a new connection whose LISTEN has finished (idle): the killed one may
    // still show for a moment, and a LISTEN still running shows too, but a NOTIFY sent before it
    // commits is not delivered.
    let back = false;
    for (let i = 0; i < 200 && !back; i++) {
      const listening = await r.db.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND state = 'idle' AND pid <> pg_backend_pid() AND pid <> $1", [killed.rows[0].pid]);
      back = listening.rowCount === 1;
      if (!back) await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.ok(back, "listening again");
    const woken = arrives(r.events, "wake");
    await r.store.submit(buildRequest({ sha: sha("3") }));
    await woken;
  } finally {
    await r.close();
  }
});
