/**
 * Webhook benchmark (issue: the app on GitHub). Measures, on loopback:
 *  1. ack latency of signed `push` deliveries at 50 and 200 per second, against a bare Probot
 *     app whose handler does nothing, and that every acknowledged delivery was stored once;
 *  2. first feedback: delivery sent → `queued` check run at the GitHub fake, with the
 *     installation's writes idle and with three of its builds streaming live tails;
 *  3. RSS of the microship process idle and with 500 queued builds;
 *  4. GitHub API calls for one 2-minute build with a steady log.
 * Run: node bench/webhooks/run.ts [--quick] [--ack-only]. Results are written up in bench/README.md.
 * The load comes from load-child.ts, in its own process (see there why not autocannon).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { startGitHubFake } from "../../test/fakes/github/github-fake.ts";
import { appCredentials } from "../../test/fakes/app-credentials.ts";
import { loadExample, withRepo, sign, sendWebhook } from "../../test/fakes/webhooks.ts";

const quick = process.argv.includes("--quick");
const DURATION = quick ? 3 : 10;
/** Seconds sent at the rate before counting, so both servers are measured warm. */
const WARMUP = quick ? 1 : 2;
/** Only the ack latency part, for comparing runs of it. */
const ackOnly = process.argv.includes("--ack-only");
const creds = appCredentials();
const fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
fake.createRepo({ owner: "bench", repo: "app", installationId: 1 });
const sha = fake.commit({ owner: "bench", repo: "app", branch: "main", files: { "index.js": "" } });
const push = withRepo(loadExample("push", (e) => e.ref?.startsWith("refs/heads/")), { owner: "bench", repo: "app", installationId: 1 });
Object.assign(push, { ref: "refs/heads/main", after: sha, deleted: false });
const body = JSON.stringify(push);
const signature = sign(creds.webhookSecret, body);

interface Child {
  url: string;
  pid: number;
  /** Server-side request times and event-loop delay since the last call (server-timing.ts). */
  timing(): Promise<{ n: number; p50: number; p99: number; max: number; loopP99: number; loopMax: number }>;
  kill(): void;
}

const childEnv = { APP_ID: String(creds.appId), PRIVATE_KEY: creds.privateKeyPem, WEBHOOK_SECRET: creds.webhookSecret };

function child(dataDir: string, mode: string, env: Record<string, string> = {}): Promise<Child> {
  return spawnServer(new URL("../../test/helpers/app-child.ts", import.meta.url).pathname, {
    MS_CHILD_BUILDER: mode, ...childEnv,
    GHE_HOST: fake.host, GHE_PROTOCOL: "http", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", MICROSHIP_DATA_DIR: dataDir,
    MICROSHIP_BUILDER: "host", MICROSHIP_REGISTRY: "registry.bench:5000", MICROSHIP_CONCURRENCY: "1", MS_CHILD_PROGRESS_MS: "5000", ...env,
  });
}

function spawnServer(script: string, env: Record<string, string>): Promise<Child> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", new URL("./server-timing.ts", import.meta.url).pathname, script], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const waiters: Array<(t: any) => void> = [];
    p.stdout!.on("data", (c) => {
      out += c;
      for (let m; (m = /TIMING (\{.*\})\n/.exec(out)); ) {
        out = out.slice(m.index + m[0].length);
        waiters.shift()?.(JSON.parse(m[1]!));
      }
      const ready = /READY (\S+)/.exec(out);
      if (ready) {
        out = out.slice(ready.index + ready[0].length);
        resolve({
          url: ready[1]!, pid: p.pid!, kill: () => p.kill("SIGKILL"),
          timing: () => new Promise((r) => { waiters.push(r); p.kill("SIGUSR2"); }),
        });
      }
    });
    p.on("exit", (code) => reject(new Error(`${script} exited ${code}`)));
  });
}


async function load(url: string, rate: number): Promise<{ p50: number; p99: number; max: number; ok: number; errors: number; acknowledged: number }> {
  const script = new URL("./load-child.ts", import.meta.url).pathname;
  const p = spawn(process.execPath, [script, JSON.stringify({ url, rate, duration: DURATION, warmup: WARMUP, body, signature })], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  p.stdout!.on("data", (c) => (out += c));
  const code = await new Promise<number | null>((r) => p.on("exit", r));
  if (code !== 0) throw new Error(`load generator exited ${code}`);
  return JSON.parse(out);
}

const rssMb = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

const report: string[] = [];
const dataDir = await mkdtemp(join(tmpdir(), "ms-bench-"));
try {
  await ackLatency();
  if (!ackOnly) {
    await memoryAndFirstFeedback();
    await apiCalls();
  }
} finally {
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
}
console.log(report.join("\n"));

async function ackLatency(): Promise<void> {
  const app = await child(dataDir, "ok");
  const bare = await spawnServer(new URL("./bare-child.ts", import.meta.url).pathname, childEnv);
  report.push(
    `| rate | microship p50 | microship p99 | bare Probot p50 | bare Probot p99 | p99 difference | microship in-server p99 / max | bare in-server p99 / max | timed 2xx | acknowledged / stored |`,
    `|---|---|---|---|---|---|---|---|---|---|`,
  );
  for (const rate of [50, 200]) {
    await app.timing();
    await bare.timing();
    const before = countDeliveries(dataDir);
    const ours = await load(app.url, rate);
    const stored = countDeliveries(dataDir) - before;
    const ourTiming = await app.timing();
    const theirs = await load(bare.url, rate);
    const theirTiming = await bare.timing();
    report.push(
      `| ${rate}/s | ${ours.p50} ms | ${ours.p99} ms | ${theirs.p50} ms | ${theirs.p99} ms | ${(ours.p99 - theirs.p99).toFixed(1)} ms | ${ourTiming.p99} / ${ourTiming.max} ms | ${theirTiming.p99} / ${theirTiming.max} ms | ${ours.ok} (${ours.errors} errors) | ${ours.acknowledged} / ${stored} |`,
    );
  }
  bare.kill();

  app.kill();
}

function pushTo(url: string, branch: string, sha: string) {
  const p = structuredClone(push);
  Object.assign(p, { ref: `refs/heads/${branch}`, after: sha });
  return sendWebhook(`${url}/api/github/webhooks`, { event: "push", payload: p, secret: creds.webhookSecret });
}

/** Delivery sent → `queued` check run at the GitHub fake, for pushes a little over a second apart. */
async function firstFeedback(url: string, name: string, label: string): Promise<void> {
  const firsts: number[] = [];
  for (let i = 0; i < (quick ? 5 : 20); i++) {
    const s = fake.commit({ owner: "bench", repo: "app", branch: `${name}-${i}`, files: { "i.js": String(i) } });
    const t0 = Date.now();
    await pushTo(url, `${name}-${i}`, s);
    const run = await fake.waitFor(() => fake.checkRuns("bench", "app").find((r) => r.head_sha === s), 10_000);
    firsts.push(run.history[0]!.time - t0);
    await new Promise((r) => setTimeout(r, 1_100));
  }
  firsts.sort((a, b) => a - b);
  report.push("", `First feedback, ${label}: p50 ${firsts[Math.floor(firsts.length / 2)]} ms, max ${firsts.at(-1)} ms over ${firsts.length} pushes.`);
}

/** 2. first feedback, with the installation's writes idle and then busy, and 3. memory. */
async function memoryAndFirstFeedback(): Promise<void> {
  // The builder is busy on one build that never ends; the rest queue, so each push's writes are its own.
  const memDir = await mkdtemp(join(tmpdir(), "ms-bench-mem-"));
  const idle = await child(memDir, "hang");
  await new Promise((r) => setTimeout(r, 2_000));
  const idleRss = await rssMb(idle.pid);
  await firstFeedback(idle.url, "ff", "the installation's writes idle");
  for (let i = 0; i < 500; i++) await pushTo(idle.url, `q-${i}`, `${i.toString(16).padStart(8, "0")}${"e".repeat(32)}`);
  await new Promise((r) => setTimeout(r, 3_000));
  report.push("", `RSS idle: ${idleRss.toFixed(0)} MB; with 500 queued builds: ${(await rssMb(idle.pid)).toFixed(0)} MB.`);
  idle.kill();
  await rm(memDir, { recursive: true, force: true });

  // Three builds of the same installation log a line a second and send their live tails every 5 s.
  const busyDir = await mkdtemp(join(tmpdir(), "ms-bench-busy-"));
  const busy = await child(busyDir, "steady", { MICROSHIP_CONCURRENCY: "3", MS_CHILD_STEADY_SECONDS: "3600" });
  const running: string[] = [];
  for (let i = 0; i < 3; i++) {
    running.push(fake.commit({ owner: "bench", repo: "app", branch: `busy-${i}`, files: { "b.js": String(i) } }));
    await pushTo(busy.url, `busy-${i}`, running[i]!);
  }
  await fake.waitFor(() => fake.checkRuns("bench", "app").filter((r) => running.includes(r.head_sha) && r.status === "in_progress").length === 3 || undefined, 30_000);
  await new Promise((r) => setTimeout(r, 6_000));
  await firstFeedback(busy.url, "fb", "three builds of the installation sending live tails");
  busy.kill();
  await rm(busyDir, { recursive: true, force: true });
}

/** 4. GitHub API calls of one 2-minute build with a steady log. */
async function apiCalls(): Promise<void> {
  const apiDir = await mkdtemp(join(tmpdir(), "ms-bench-api-"));
  process.env.MS_CHILD_STEADY_SECONDS = quick ? "20" : "120";
  const steady = await child(apiDir, "steady");
  const s = fake.commit({ owner: "bench", repo: "app", branch: "steady", files: { "s.js": "1" } });
  const p = structuredClone(push);
  Object.assign(p, { ref: "refs/heads/steady", after: s });
  const callsBefore = fake.calls.length;
  await sendWebhook(`${steady.url}/api/github/webhooks`, { event: "push", payload: p, secret: creds.webhookSecret });
  await fake.waitFor(() => fake.checkRuns("bench", "app").find((r) => r.head_sha === s && r.status === "completed"), 300_000);
  const calls = fake.calls.slice(callsBefore).filter((c) => c.operationId !== "git");
  const byOp = new Map<string, number>();
  for (const c of calls) byOp.set(c.operationId ?? c.path, (byOp.get(c.operationId ?? c.path) ?? 0) + 1);
  report.push("", `GitHub API calls for one ${process.env.MS_CHILD_STEADY_SECONDS}-second build with a line a second: ${calls.length} (${[...byOp].map(([k, v]) => `${k} ${v}`).join(", ")}).`);
  steady.kill();
  await rm(apiDir, { recursive: true, force: true });
}

function countDeliveries(dir: string): number {
  const db = new DatabaseSync(join(dir, "microship.sqlite"), { readOnly: true });
  try {
    return Number((db.prepare("SELECT COUNT(*) AS n FROM deliveries").get() as { n: number }).n);
  } finally {
    db.close();
  }
}
