import { after, test } from "node:test";
import assert from "node:assert/strict";
import { PgDatabase } from "../../../src/store/postgres/pg-database.ts";
import { migrate } from "../../../src/store/postgres/migrate.ts";
import { PgStore } from "../../../src/store/postgres/pg-store.ts";
import { DeploymentLocks, deploymentLockName } from "../../../src/core/deploy/deployment-lock.ts";
import { PreviewReconciler, RECONCILER_LOCK } from "../../../src/core/deploy/reconciler.ts";
import type { Deployer, LiveDeployment } from "../../../src/core/deployer.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import { startPostgresCluster } from "../../helpers/postgres-cluster.ts";

const cluster = await startPostgresCluster();
const dbs: PgDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.close().catch(() => undefined);
  await cluster.stop();
});

/** Two replicas over one database: each its own pool, store and locks. */
async function replicas(): Promise<[DeploymentLocks, DeploymentLocks, PgDatabase]> {
  const url = await cluster.database();
  const a = new PgDatabase(url), b = new PgDatabase(url);
  dbs.push(a, b);
  await migrate(a);
  return [new DeploymentLocks(new PgStore(a), { pollMs: 10 }), new DeploymentLocks(new PgStore(b), { pollMs: 10 }), a];
}

const target = { kind: "preview" as const, environment: "preview/pr-7", slug: "pr-7", transient: true, production: false };
const NAME = deploymentLockName({ owner: "octo", repo: "app", app: null, target });

test("a deploy on one replica waits for the other replica's deploy of the same deployment, and gets it when that one ends", async () => {
  const [a, b] = await replicas();
  const events: string[] = [];
  const unlockA = await a.acquire(NAME, AbortSignal.timeout(10_000));
  events.push("a has it");
  assert.equal(await b.tryAcquire(NAME), null, "held on the other replica");
  let told = 0;
  const gotB = b.acquire(NAME, AbortSignal.timeout(10_000), () => told++).then((unlock) => (events.push("b has it"), unlock));
  const other = await b.acquire(deploymentLockName({ owner: "octo", repo: "app", app: "api", target }), AbortSignal.timeout(10_000));
  await other();
  events.push("a lets go");
  await unlockA();
  const unlockB = await gotB;
  assert.deepEqual(events, ["a has it", "a lets go", "b has it"]);
  assert.equal(told, 1, "the waiting deploy said so once");
  await unlockB();
});

test("a replica killed while deploying (its connection gone) leaves no lock behind", async () => {
  const [a, b, dbA] = await replicas();
  const lost = await a.acquire(NAME, AbortSignal.timeout(10_000));
  assert.equal(await b.tryAcquire(NAME), null);
  // What a kill -9 does to the holder's session: the server ends it, and its advisory locks with it.
  await dbA.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()");
  const unlock = await b.acquire(NAME, AbortSignal.timeout(10_000));
  await unlock();
  await lost();
});

test("a wait for the lock ends when the build is cancelled", async () => {
  const [a, b] = await replicas();
  const unlockA = await a.acquire(NAME, AbortSignal.timeout(10_000));
  const stop = new AbortController();
  const waiting = b.acquire(NAME, stop.signal);
  stop.abort(new Error("cancelled by a newer push"));
  await assert.rejects(waiting, /cancelled by a newer push/);
  await unlockA();
  await (await b.acquire(NAME, AbortSignal.timeout(10_000)))();
});

test("only one replica reconciles at a time, and a preview being deployed on another replica is left for the next pass", async () => {
  const [a, b] = await replicas();
  const expired: LiveDeployment = {
    owner: "octo", repo: "app", app: null, target, installationId: 1, sha: "f".repeat(40), instance: "app-pr-7-abcdef-1", url: "http://x", imageRef: "r/o/a@sha256:1",
    digest: "sha256:1", createdAt: new Date(0), expiresAt: new Date(1), state: "running",
  };
  const torn: string[] = [];
  let listed = 0;
  const deployer = {
    name: "stub", describe: () => "stub", deploy: async () => { throw new Error("not used"); },
    list: async () => (listed++, [expired]),
    teardown: async (k) => (torn.push(k.target.environment), 1),
  } satisfies Deployer;
  const reconciler = new PreviewReconciler({ deployer, deployments: null, pulls: { isOpen: async () => true }, locks: b, log: quietLog }, { intervalMs: 60_000 });

  const passLock = (await a.tryAcquire(RECONCILER_LOCK))!;
  assert.deepEqual(await reconciler.runOnce(), { ran: false, removed: [], failed: [] });
  assert.equal(listed, 0, "the skipped pass did not even list");
  await passLock();

  const deploying = await a.acquire(NAME, AbortSignal.timeout(10_000));
  const during = await reconciler.runOnce();
  assert.equal(during.ran, true);
  assert.deepEqual(during.removed, []);
  assert.deepEqual(torn, [], "not torn down under a running deploy");
  await deploying();
  const next = await reconciler.runOnce();
  assert.deepEqual(next.removed.map((r) => r.reason), ["expired"]);
  assert.deepEqual(torn, ["preview/pr-7"]);
});
