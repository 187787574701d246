import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startGitHubFake } from "../../fakes/github/github-fake.ts";
import { appCredentials } from "../../fakes/app-credentials.ts";
import { sendWebhook, loadExample, withRepo } from "../../fakes/webhooks.ts";
import { startAppChild, type AppChild } from "../../helpers/app-child-process.ts";
import { startPostgresCluster, type PostgresCluster } from "../../helpers/postgres-cluster.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

/**
 * Two replicas (app children, the scripted builder) over one Postgres database, each with a
 * data dir of its own, as a deployment behind a load balancer would run them.
 */
let cluster: PostgresCluster;
let dir: string;
before(async () => {
  cluster = await startPostgresCluster();
  dir = await mkdtemp(join(tmpdir(), "ms-replicas-"));
});
after(() => cleanupAll(() => cluster?.stop(), () => rm(dir, { recursive: true, force: true })));

async function world() {
  const creds = appCredentials();
  const fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  const url = await cluster.database();
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const children: AppChild[] = [];
  let n = 0;
  const replica = async (builder: string, extra: Record<string, string> = {}) => {
    const child = await startAppChild({
      APP_ID: String(creds.appId), PRIVATE_KEY: creds.privateKeyPem, WEBHOOK_SECRET: creds.webhookSecret, GHE_HOST: fake.host, GHE_PROTOCOL: "http",
      PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", MICROSHIP_DATA_DIR: await mkdtemp(join(dir, `replica-${n++}-`)), MICROSHIP_BUILDER: "host",
      DATABASE_URL: url, MICROSHIP_REGISTRY: "registry.example.com/team", MICROSHIP_LOG_SECRET: "one-secret-for-every-replica", MS_CHILD_BUILDER: builder, ...extra,
    });
    children.push(child);
    return child;
  };
  fake.createRepo({ owner: "o", repo: "r", installationId: 5 });
  const push = async (to: AppChild, branch: string) => {
    const sha = fake.commit({ owner: "o", repo: "r", branch, files: { x: branch } });
    const payload = withRepo(loadExample("push", (e) => e.ref?.startsWith("refs/heads/")), { owner: "o", repo: "r", installationId: 5 });
    Object.assign(payload, { ref: `refs/heads/${branch}`, after: sha, deleted: false });
    assert.equal((await sendWebhook(`${to.url}/api/github/webhooks`, { event: "push", payload, secret: creds.webhookSecret })).status, 200);
    return sha;
  };
  /** Which replica's builder ran each build, from the line the scripted builder logs. */
  const builtBy = async () => {
    const rows = (await db.query("SELECT b.id, b.tries, b.state, c.lines FROM builds b LEFT JOIN log_chunks c ON c.build_id = b.id ORDER BY b.created_at, c.seq")).rows;
    const out = new Map<string, { tries: number; state: string; pids: number[] }>();
    for (const row of rows) {
      const entry = out.get(row.id) ?? { tries: Number(row.tries), state: String(row.state), pids: [] as number[] };
      out.set(row.id, entry);
      for (const line of JSON.parse(row.lines ?? "[]") as { text: string }[]) {
        const m = /^child (\d+) building /.exec(line.text);
        if (m) entry.pids.push(Number(m[1]));
      }
    }
    return out;
  };
  return {
    fake, replica, push, builtBy,
    close: () => cleanupAll(...children.map((c) => () => c.stop()), () => db.end(), () => fake.close()),
  };
}

test("pushes delivered to either replica are each built exactly once, by one of them", async () => {
  const w = await world();
  try {
    const a = await w.replica("ok");
    const b = await w.replica("ok");
    const branches = ["b0", "b1", "b2", "b3"];
    for (const [i, branch] of branches.entries()) await w.push(i % 2 === 0 ? a : b, branch);
    await w.fake.waitFor(() => {
      const runs = w.fake.checkRuns("o", "r");
      return runs.length === branches.length && runs.every((r) => r.status === "completed");
    }, 60_000, "every build to finish").catch(async (err) => {
      console.error(JSON.stringify([...(await w.builtBy()).entries()]), w.fake.checkRuns("o", "r").map((r) => [r.id, r.status, r.conclusion, r.output?.title]), a.output().slice(-3000), b.output().slice(-3000));
      throw err;
    });
    assert.equal(w.fake.checkRuns("o", "r").length, branches.length, "one check run a push");
    assert.ok(w.fake.checkRuns("o", "r").every((r) => r.conclusion === "success"));
    // The check run ends just before the build's row does.
    let builds = await w.builtBy();
    for (let i = 0; i < 200 && [...builds.values()].some((b) => b.state !== "completed"); i++) {
      await new Promise((ok) => setTimeout(ok, 100));
      builds = await w.builtBy();
    }
    assert.equal(builds.size, branches.length);
    const replicaPids = new Set([a.child.pid, b.child.pid]);
    for (const [id, build] of builds) {
      assert.equal(build.state, "completed", id);
      assert.equal(build.tries, 1, `${id} was claimed once`);
      assert.equal(build.pids.length, 1, `${id} was built once`);
      assert.ok(replicaPids.has(build.pids[0]!), `${id} was built by a replica`);
    }
    assert.deepEqual(w.fake.unknownCalls(), []);
  } finally {
    await w.close();
  }
});

test("a replica killed mid-build: the other resumes the build after the lease, and no check run stays in progress", async () => {
  const w = await world();
  try {
    const a = await w.replica("hang");
    await w.push(a, "main");
    const run = await w.fake.waitFor(() => w.fake.checkRuns("o", "r").find((r) => r.status === "in_progress"), 20_000, "the build to start on replica A");
    const b = await w.replica("ok");
    a.child.kill("SIGKILL");
    const done = await w.fake.waitFor(() => {
      const r = w.fake.state.checkRuns.get(run.id);
      return r?.status === "completed" && r;
    }, 30_000, "replica B to finish the interrupted build");
    assert.equal(done.conclusion, "success", "resumed on the same check run");
    assert.match(done.output.text ?? "", /Resuming after an interruption/);
    assert.equal(w.fake.checkRuns("o", "r").length, 1);
    assert.ok(w.fake.checkRuns("o", "r").every((r) => r.status === "completed"), "nothing left in progress");
    const [build] = [...(await w.builtBy()).values()];
    assert.equal(build?.tries, 2);
    assert.equal(build?.pids.at(-1), b.child.pid, "finished on B");
    assert.deepEqual(w.fake.unknownCalls(), []);
  } finally {
    await w.close();
  }
});

test("a build superseded through the other replica stops at once: NOTIFY, not the next heartbeat", async () => {
  const w = await world();
  try {
    // Heartbeats every 40 s: a stop within the wait below can only have come by notification.
    const slow = { MS_CHILD_LEASE_MS: "120000" };
    const a = await w.replica("hang", slow);
    await w.push(a, "topic");
    const run = await w.fake.waitFor(() => w.fake.checkRuns("o", "r").find((r) => r.status === "in_progress"), 20_000, "the build to start on replica A");
    const b = await w.replica("ok", slow);
    await w.push(b, "topic");
    const stopped = await w.fake.waitFor(() => {
      const r = w.fake.state.checkRuns.get(run.id);
      return r?.status === "completed" && r;
    }, 20_000, "replica A to stop the superseded build");
    assert.equal(stopped.conclusion, "cancelled");
    assert.deepEqual(w.fake.unknownCalls(), []);
  } finally {
    await w.close();
  }
});
