/**
 * Scale benchmark (issue: scale out). Measures, on loopback, with a throwaway Postgres cluster:
 *  1. webhook ack latency at 200 deliveries per second: microship on Postgres, on SQLite, and a
 *     bare Probot app, in the same run, with the open-loop generator of bench/webhooks;
 *  2. build throughput of 1, 2 and 3 replicas (scripted builder: each build is the real
 *     pipeline around a build that takes no time: checkout by git, check runs, log, claims);
 *  3. push → build claimed on an idle worker replica, through a web replica (NOTIFY; polling is
 *     set to 5 s so it cannot be what wakes the worker).
 * Run: node bench/scale/run.ts [--quick] [--ack-only]. Results are written up in bench/scale.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgresCluster } from "../../test/helpers/postgres-cluster.ts";
import { replicaWorld } from "../../test/helpers/replica-world.ts";
import { sign } from "../../test/fakes/webhooks.ts";

const quick = process.argv.includes("--quick");
const cluster = await startPostgresCluster();
const report: string[] = [];
try {
  await ackLatency();
  if (!process.argv.includes("--ack-only")) {
    for (const n of [1, 2, 3]) await throughput(n);
    await wakeLatency();
  }
} finally {
  await cluster.stop();
}
console.log(report.join("\n"));

async function load(url: string, rate: number, body: string, signature: string) {
  const script = new URL("../webhooks/load-child.ts", import.meta.url).pathname;
  const p = spawn(process.execPath, [script, JSON.stringify({ url, rate, duration: quick ? 3 : 10, warmup: quick ? 1 : 2, body, signature })], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  p.stdout!.on("data", (c) => (out += c));
  const code = await new Promise<number | null>((r) => p.on("exit", r));
  if (code !== 0) throw new Error(`load generator exited ${code}`);
  return JSON.parse(out) as { p50: number; p99: number; max: number; ok: number; errors: number; acknowledged: number };
}

/** 1. The same signed push (one sha: after the first, each delivery shares its build) to each server. */
async function ackLatency(): Promise<void> {
  const w = await replicaWorld(await cluster.database(), { MICROSHIP_CONCURRENCY: "1" });
  const dir = await mkdtemp(join(tmpdir(), "ms-bench-scale-"));
  const bare = await startBare(w.childEnv);
  try {
    const [p] = w.branches("main", 1);
    const onPg = await w.replica("hang");
    // DATABASE_URL empty counts as unset: this one keeps its SQLite file in its own data dir.
    const onSqlite = await w.replica("hang", { DATABASE_URL: "", MICROSHIP_DATA_DIR: dir });
    const body = JSON.stringify({ ...w.pushTemplate, ref: `refs/heads/${p!.branch}`, after: p!.sha, deleted: false });
    const signature = sign(w.childEnv.WEBHOOK_SECRET!, body);
    report.push("## Ack latency at 200/s", "", "| server | p50 | p99 | max | 2xx timed | errors | acknowledged |", "|---|---|---|---|---|---|---|");
    for (const [name, url] of [["microship on Postgres", onPg.url], ["microship on SQLite", onSqlite.url], ["bare Probot", bare.url]] as const) {
      const r = await load(url, 200, body, signature);
      report.push(`| ${name} | ${r.p50} ms | ${r.p99} ms | ${r.max} ms | ${r.ok} | ${r.errors} | ${r.acknowledged} |`);
    }
    const stored = Number((await w.db.query("SELECT count(*) AS n FROM deliveries")).rows[0].n);
    report.push("", `Deliveries stored in Postgres: ${stored}.`);
  } finally {
    bare.child.kill("SIGKILL");
    await w.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** bench/webhooks' bare Probot app, in its own process. */
function startBare(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [new URL("../webhooks/bare-child.ts", import.meta.url).pathname], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (c) => {
      out += c;
      const m = /READY (\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.once("exit", (code) => reject(new Error(`bare Probot exited ${code}`)));
  });
}

/** 2. `builds` pushes on distinct branches, all at once, to `n` replicas; time to the last completed check run. */
async function throughput(n: number): Promise<void> {
  const builds = quick ? 15 : 40;
  const w = await replicaWorld(await cluster.database(), { MICROSHIP_CONCURRENCY: String(4 * n), MS_CHILD_LEASE_MS: "10000" });
  try {
    const replicas: { url: string }[] = [];
    for (let i = 0; i < n; i++) replicas.push(await w.replica("ok"));
    const pushes = w.branches("t", builds);
    const t0 = performance.now();
    await Promise.all(pushes.map((p, i) => w.push(replicas[i % n]!.url, p.branch, p.sha)));
    await w.fake.waitFor(() => {
      const runs = w.fake.checkRuns("o", "r");
      return runs.length === builds && runs.every((r) => r.status === "completed");
    }, 600_000, "every build");
    const s = (performance.now() - t0) / 1000;
    if (n === 1) report.push("", "## Build throughput (scripted builder, 4 builds at a time per replica)", "", "| replicas | builds | seconds | builds/s |", "|---|---|---|---|");
    report.push(`| ${n} | ${builds} | ${s.toFixed(1)} | ${(builds / s).toFixed(2)} |`);
  } finally {
    await w.close();
  }
}

/** 3. A web replica takes the push; an idle worker replica claims it. created_at → started_at, both stamped by Postgres clients on one host. */
async function wakeLatency(): Promise<void> {
  const w = await replicaWorld(await cluster.database(), { MS_CHILD_POLL_MS: "5000", MS_CHILD_LEASE_MS: "15000" });
  try {
    const web = await w.replica("ok", { MICROSHIP_ROLE: "web" });
    await w.replica("ok", { MICROSHIP_ROLE: "worker" });
    const pushes = w.branches("wake", quick ? 8 : 30);
    const waits: number[] = [];
    for (const p of pushes) {
      await w.push(web.url, p.branch, p.sha);
      await w.fake.waitFor(() => w.fake.checkRuns("o", "r").find((r) => r.head_sha === p.sha && r.status === "completed"), 30_000, "the build");
      const row = (await w.db.query("SELECT created_at, started_at FROM builds WHERE sha = $1", [p.sha])).rows[0];
      waits.push(Number(row.started_at) - Number(row.created_at));
      await new Promise((ok) => setTimeout(ok, 300));
    }
    waits.sort((a, b) => a - b);
    report.push("", "## Push → build claimed on an idle worker (through a web replica; polling every 5 s)", "",
      `p50 ${waits[Math.floor(waits.length / 2)]} ms, p90 ${waits[Math.floor(waits.length * 0.9)]} ms, max ${waits.at(-1)} ms over ${waits.length} pushes.`);
  } finally {
    await w.close();
  }
}

