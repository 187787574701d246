import { after, test } from "node:test";
import assert from "node:assert/strict";
import { PgDatabase } from "../../../src/store/postgres/pg-database.ts";
import { migrate } from "../../../src/store/postgres/migrate.ts";
import { PgStore } from "../../../src/store/postgres/pg-store.ts";
import { PgQueue } from "../../../src/queue/postgres/pg-queue.ts";
import type { BuildRequest, PullRequestRef } from "../../../src/core/types.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";
import { startPostgresCluster } from "../../helpers/postgres-cluster.ts";

const cluster = await startPostgresCluster();
after(() => cluster.stop());

const T0 = 1_000_000;
const WINDOW = 3_000;

/** Two replicas over one database, each a pool and a queue of its own, on hosts "a" and "b"; time is driven through `now`. */
async function twoHosts() {
  const url = await cluster.database();
  const dbA = new PgDatabase(url);
  await migrate(dbA);
  const dbB = new PgDatabase(url);
  const store = new PgStore(dbA);
  const queues = { a: new PgQueue(dbA), b: new PgQueue(dbB) };
  const claim = (host: "a" | "b", now: number, affinityMs: number = WINDOW) =>
    queues[host].claim({ workerId: `w-${host}`, leaseMs: 60_000, maxRunning: 10, now, hostId: host, affinityMs });
  const submit = async (over: Partial<BuildRequest>, now: number) => {
    const r = await store.submit(buildRequest(over), now);
    assert.equal(r.kind, "created");
    return r.kind === "created" ? r.build.id : "";
  };
  const hostOf = async (scope: string) => (await dbA.query("SELECT host_id FROM scope_hosts WHERE scope = $1", [scope])).rows[0]?.host_id ?? null;
  return { claim, submit, hostOf, db: dbA, close: async () => (await dbA.close(), await dbB.close()) };
}

/** octo/app has been built on host "a" once (a build of another branch, so nothing is superseded). */
async function builtOnA(h: Awaited<ReturnType<typeof twoHosts>>) {
  const first = await h.submit({ sha: sha("1"), branch: "one" }, T0 - 10_000);
  assert.equal((await h.claim("a", T0 - 10_000))?.id, first);
  assert.equal(await h.hostOf("octo/app"), "a");
}

test("a scope built on host A is left to A while both ask: B is turned away, A takes it", async () => {
  const h = await twoHosts();
  try {
    await builtOnA(h);
    const next = await h.submit({ sha: sha("2"), branch: "two" }, T0);
    assert.equal(await h.claim("b", T0 + 10), null, "B asks first, inside the window");
    assert.equal((await h.claim("a", T0 + 20))?.id, next);
    assert.equal(await h.hostOf("octo/app"), "a");
  } finally {
    await h.close();
  }
});

test("B takes it once the window has passed without A claiming, and the scope is then B's", async () => {
  const h = await twoHosts();
  try {
    await builtOnA(h);
    const next = await h.submit({ sha: sha("2"), branch: "two" }, T0);
    assert.equal(await h.claim("b", T0 + WINDOW - 1), null, "one millisecond before the window ends");
    assert.equal((await h.claim("b", T0 + WINDOW))?.id, next, "falls back to any host");
    assert.equal(await h.hostOf("octo/app"), "b");
    const third = await h.submit({ sha: sha("3"), branch: "three" }, T0 + 5_000);
    assert.equal(await h.claim("a", T0 + 5_001), null, "now A is the other host");
    assert.equal((await h.claim("b", T0 + 5_002))?.id, third);
  } finally {
    await h.close();
  }
});

test("while a build is left to A, B takes the next build in order; a scope never built goes to whoever asks", async () => {
  const h = await twoHosts();
  try {
    await builtOnA(h);
    const warmOnA = await h.submit({ sha: sha("2"), branch: "two" }, T0);
    const fresh = await h.submit({ sha: sha("3"), branch: "x", repo: "other" }, T0 + 1);
    assert.equal((await h.claim("b", T0 + 10))?.id, fresh, "the older build is skipped, not waited on");
    assert.equal(await h.hostOf("octo/other"), "b");
    assert.equal((await h.claim("a", T0 + 20))?.id, warmOnA);
  } finally {
    await h.close();
  }
});

test("a fork PR's scope is its own: A's base-repository cache does not hold it back from B, but its own history does", async () => {
  const h = await twoHosts();
  try {
    await builtOnA(h);
    const pr = { number: 7, fork: true, baseRef: "main", headRef: "patch", headRepo: "stranger/app" } satisfies PullRequestRef;
    const forkBuild = await h.submit({ sha: sha("4"), branch: null, trigger: "pull_request", pr }, T0);
    assert.equal((await h.claim("b", T0 + 10))?.id, forkBuild);
    assert.equal(await h.hostOf("octo/app/pr-7"), "b");
    assert.equal(await h.hostOf("octo/app"), "a", "the base scope is untouched by the fork's build");
    const again = await h.submit({ sha: sha("5"), branch: null, trigger: "pull_request", pr }, T0 + 100);
    assert.equal(await h.claim("a", T0 + 110), null, "pr-7 last ran on B");
    assert.equal((await h.claim("b", T0 + 120))?.id, again);
  } finally {
    await h.close();
  }
});

test("affinity 0, or no host id, is the old behaviour: the first to ask takes the build", async () => {
  const h = await twoHosts();
  try {
    await builtOnA(h);
    const next = await h.submit({ sha: sha("2"), branch: "two" }, T0);
    assert.equal((await h.claim("b", T0 + 10, 0))?.id, next, "affinity off");
    const third = await h.submit({ sha: sha("3"), branch: "three" }, T0 + 100);
    const q = new PgQueue(h.db);
    assert.equal((await h.claim("a", T0 + 110)), null, "the scope is B's now");
    const taken = await q.claim({ workerId: "no-host", leaseMs: 60_000, maxRunning: 10, now: T0 + 120 });
    assert.equal(taken?.id, third, "a claim without a host id is not held back, and records nothing");
    assert.equal(await h.hostOf("octo/app"), "b");
  } finally {
    await h.close();
  }
});
