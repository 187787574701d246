import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import pg from "pg";
import { replicaWorld, type ReplicaWorld } from "../../helpers/replica-world.ts";
import { startPostgresCluster, type PostgresCluster } from "../../helpers/postgres-cluster.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

/**
 * Replicas at scale over one Postgres (see two-replicas.test.ts for kill -9 and supersede across
 * replicas): many deliveries spread over replicas of each MICROSHIP_ROLE, a live log read on a
 * replica that does not run the build, and Postgres restarted under load.
 */
let cluster: PostgresCluster;
before(async () => {
  cluster = await startPostgresCluster();
});
after(() => cleanupAll(() => cluster?.stop()));

/** Runs `jobs` with at most `width` in flight. */
async function inFlight<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  }));
  return out;
}

async function dump(w: ReplicaWorld): Promise<string> {
  const runs = w.fake.checkRuns("o", "r");
  const open = runs.filter((r) => r.status !== "completed").slice(0, 5).map((r) => [r.id, r.head_sha, r.status]);
  if (process.env.MS_DUMP_DIR) w.replicas.forEach((r, i) => writeFileSync(`${process.env.MS_DUMP_DIR}/replica-${process.pid}-${Date.now()}-${i}.log`, r.output()));
  return `${runs.length} runs; open: ${JSON.stringify(open)}\n${w.replicas.map((r) => r.output().slice(-2000)).join("\n---\n")}`;
}

test("500 deliveries over web and all-role replicas: each recorded once, each sha built once by a replica that claims builds, one check run each", async () => {
  const w = await replicaWorld(await cluster.database(), { MICROSHIP_CONCURRENCY: "24", MS_CHILD_LEASE_MS: "5000" });
  try {
    const [a, b] = [await w.replica("ok"), await w.replica("ok")];
    const web = await w.replica("ok", { MICROSHIP_ROLE: "web" });
    const worker = await w.replica("ok", { MICROSHIP_ROLE: "worker" });
    // A worker takes no webhook (a load balancer that sends it one gets a 404, and GitHub redelivers) but answers its health check.
    assert.equal((await w.push(worker.url, "none", "0".repeat(40))).status, 404);
    assert.equal((await fetch(`${worker.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${worker.url}/readyz`)).status, 200);

    // 50 commits, each delivered ten times with ten delivery ids (a push and the GitHub events
    // that share its build), at once through different replicas: the submits of one sha race
    // across replicas. 50 builds keep the test's time modest: a replica sends one installation's
    // check-run writes a second apart (GitHub's guidance), about three per build.
    const pushes = w.branches("b", 50);
    const front = [a.url, b.url, web.url];
    const jobs = pushes.flatMap((p, i) => Array.from({ length: 10 }, (_, k) => () => w.push(front[(i + k) % 3]!, p.branch, p.sha)));
    const sent = await inFlight(jobs, 32);
    assert.equal(sent.length, 500);
    // 202 is Octokit's "still processing" after 9 s: GitHub counts it delivered, and the submit goes on.
    assert.deepEqual(sent.filter((s) => s.status !== 200 && s.status !== 202), [], "every delivery acknowledged");
    // GitHub redelivers: the same delivery ids again, through another replica, record nothing new.
    const again = await inFlight(sent.slice(0, 30).map((s, i) => () => w.push(front[(i + 1) % 3]!, pushes[Math.floor(i / 10)]!.branch, pushes[Math.floor(i / 10)]!.sha, s.deliveryId)), 8);
    assert.ok(again.every((s) => s.status === 200 || s.status === 202));

    await w.fake.waitFor(() => {
      const runs = w.fake.checkRuns("o", "r");
      return runs.length >= pushes.length && runs.every((r) => r.status === "completed");
    }, 120_000, "every build to finish").catch(async (err) => {
      console.error(await dump(w));
      throw err;
    });
    const runs = w.fake.checkRuns("o", "r");
    assert.equal(runs.length, pushes.length, "one check run a delivery");
    assert.equal(new Set(runs.map((r) => r.head_sha)).size, pushes.length, "no sha has two runs");
    assert.ok(runs.every((r) => r.conclusion === "success"));
    assert.equal(Number((await w.db.query("SELECT count(*) AS n FROM deliveries WHERE build_id IS NOT NULL")).rows[0].n), sent.length, "each delivery recorded once, with its build");

    let builds = await w.builtBy();
    for (let i = 0; i < 100 && [...builds.values()].some((x) => x.state !== "completed"); i++) {
      await new Promise((ok) => setTimeout(ok, 100));
      builds = await w.builtBy();
    }
    assert.equal(builds.size, pushes.length);
    const claimers = new Set([a.child.pid, b.child.pid, worker.child.pid]);
    const byPid = new Map<number, number>();
    for (const [id, build] of builds) {
      assert.equal(build.state, "completed", id);
      assert.equal(build.tries, 1, `${id} was claimed once`);
      assert.equal(build.pids.length, 1, `${id} was built once`);
      assert.ok(claimers.has(build.pids[0]!), `${id} was built by a replica that claims builds, not by the web one`);
      byPid.set(build.pids[0]!, (byPid.get(build.pids[0]!) ?? 0) + 1);
    }
    assert.ok((byPid.get(worker.child.pid!) ?? 0) > 0, "the worker replica built some");
    assert.deepEqual(w.fake.unknownCalls(), []);
  } finally {
    await w.close();
  }
});

test("a build running on a worker replica streams live on a web replica's log page", async () => {
  const w = await replicaWorld(await cluster.database());
  try {
    const web = await w.replica("ok", { MICROSHIP_ROLE: "web" });
    const worker = await w.replica("steady", { MICROSHIP_ROLE: "worker", MS_CHILD_STEADY_SECONDS: "8" });
    const [p] = w.branches("live", 1);
    assert.equal((await w.push(web.url, p!.branch, p!.sha)).status, 200);
    const run = await w.fake.waitFor(() => w.fake.checkRuns("o", "r").find((r) => r.status === "in_progress" && r.details_url), 20_000, "the build to start on the worker");
    const page = new URL(run.details_url!);
    // The page is asked of the web replica, which never ran the build: only the shared store has its lines.
    let seen = "";
    for (let i = 0; !/step 2: still building/.test(seen); i++) {
      assert.ok(i < 100, `the web replica's page never showed the worker's lines:\n${seen.slice(-2000)}`);
      await new Promise((ok) => setTimeout(ok, 200));
      seen = await (await fetch(`${web.url}${page.pathname}${page.search}`)).text();
    }
    assert.equal(w.fake.state.checkRuns.get(run.id)?.status, "in_progress", "the lines were shown while the build still ran");
    assert.match(seen, new RegExp(`child ${worker.child.pid} building`));
    assert.match(seen, /refreshing every 5 s/);
    const done = await w.fake.waitFor(() => {
      const r = w.fake.state.checkRuns.get(run.id);
      return r?.status === "completed" && r;
    }, 30_000, "the build to finish");
    assert.equal(done.conclusion, "success");
  } finally {
    await w.close();
  }
});

// A check run created while Postgres was away can race a second opener past the build lock (a
// restart drops advisory locks): the first id stored wins and the other run ends as skipped.
test("Postgres restarted under load: the replicas reconnect, and every acknowledged delivery is built", async () => {
  const url = await cluster.database();
  const w = await replicaWorld(url, { MICROSHIP_CONCURRENCY: "8", MS_CHILD_LEASE_MS: "5000" });
  try {
    const replicas = [await w.replica("ok"), await w.replica("ok")];
    const pushes = w.branches("r", 60);
    const sent: { status: number; sha: string }[] = [];
    const sending = (async () => {
      for (const [i, p] of pushes.entries()) {
        const r = await w.push(replicas[i % 2]!.url, p.branch, p.sha).catch(() => ({ status: 0 }));
        sent.push({ status: r.status, sha: p.sha });
        await new Promise((ok) => setTimeout(ok, 40));
      }
    })();
    await new Promise((ok) => setTimeout(ok, 1_000));
    await cluster.restart(1_000);
    await sending;

    const acked = sent.filter((s) => s.status >= 200 && s.status < 300);
    const refused = sent.filter((s) => !(s.status >= 200 && s.status < 300));
    assert.ok(refused.length > 0, "some deliveries met the outage");
    // GitHub redelivers on a 5xx (or no answer); a 4xx would be dropped for good.
    assert.deepEqual(refused.filter((s) => s.status >= 400 && s.status < 500), [], "the outage is a 5xx, never a 4xx");
    assert.ok(acked.length > 10, `the deliveries before and after the outage were acknowledged (${acked.length}): ${sent.map((s) => s.status).join(" ")}\n${await dump(w)}`);

    await w.fake.waitFor(() => {
      const done = new Set(w.fake.checkRuns("o", "r").filter((r) => r.status === "completed").map((r) => r.head_sha));
      return acked.every((s) => done.has(s.sha));
    }, 150_000, "every acknowledged delivery to be built").catch(async (err) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      console.error("ACTIVITY", JSON.stringify((await c.query("SELECT state, wait_event_type, left(query, 60) AS q, count(*) FROM pg_stat_activity GROUP BY 1,2,3 ORDER BY 4 DESC")).rows));
      await c.end();
      console.error(await dump(w));
      throw err;
    });
    // What was acknowledged is stored: the database has every one of them.
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    try {
      const stored = new Set((await check.query("SELECT sha FROM builds")).rows.map((r) => String(r.sha)));
      assert.deepEqual(acked.filter((s) => !stored.has(s.sha)), [], "no acknowledged delivery was lost");
    } finally {
      await check.end();
    }
    await w.fake.waitFor(() => w.fake.checkRuns("o", "r").every((r) => r.status === "completed"), 30_000, "no check run left in progress").catch(async (err) => {
      const open = w.fake.checkRuns("o", "r").filter((r) => r.status !== "completed");
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      const rows = (await c.query("SELECT id, sha, state, tries, check_run_id, conclusion FROM builds WHERE sha = ANY($1)", [open.map((r) => r.head_sha)])).rows;
      await c.end();
      console.error("OPEN", JSON.stringify(open.map((r) => [r.id, r.head_sha, r.status, r.external_id])), JSON.stringify(rows), await dump(w));
      throw err;
    });
    assert.ok(replicas.every((r) => r.child.exitCode === null && r.child.signalCode === null), "both replicas lived through it");
    // And they still take work after it.
    const [late] = w.branches("late", 1);
    assert.equal((await w.push(replicas[0]!.url, late!.branch, late!.sha)).status, 200);
    await w.fake.waitFor(() => w.fake.checkRuns("o", "r").some((r) => r.head_sha === late!.sha && r.status === "completed"), 20_000, "a build after the restart");
  } finally {
    await w.close();
  }
});
