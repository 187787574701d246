/**
 * Webhook benchmark (issue: the app on GitHub). Measures, on loopback:
 *  1. ack latency of signed `push` deliveries at 50 and 200 per second, against a bare Probot
 *     app whose handler does nothing, and that every acknowledged delivery was stored once;
 *  2. first feedback: delivery sent → `queued` check run at the GitHub fake;
 *  3. RSS of the microship process idle and with 500 queued builds;
 *  4. GitHub API calls for one 2-minute build with a steady log.
 * Run: node bench/webhooks/run.ts [--quick]. Results are written up in bench/README.md.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import autocannon from "autocannon";
import { startGitHubFake } from "../../test/fakes/github/github-fake.ts";
import { appCredentials } from "../../test/fakes/app-credentials.ts";
import { loadExample, withRepo, sign, sendWebhook } from "../../test/fakes/webhooks.ts";

const quick = process.argv.includes("--quick");
const DURATION = quick ? 3 : 10;
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

function child(dataDir: string, mode: string): Promise<Child> {
  return spawnServer(new URL("../../test/helpers/app-child.ts", import.meta.url).pathname, {
    MS_CHILD_BUILDER: mode, ...childEnv,
    GHE_HOST: fake.host, GHE_PROTOCOL: "http", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", MICROSHIP_DATA_DIR: dataDir,
    MICROSHIP_BUILDER: "host", MICROSHIP_REGISTRY: "registry.bench:5000", MICROSHIP_CONCURRENCY: "1",
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


async function load(url: string, rate: number): Promise<{ p50: number; p99: number; ok: number; errors: number }> {
  const result = await autocannon({
    url: `${url}/api/github/webhooks`, method: "POST", duration: DURATION, connections: Math.max(10, rate / 5), overallRate: rate,
    headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signature },
    body,
    requests: [{ setupRequest: (req: Record<string, any>) => ({ ...req, headers: { ...req.headers, "x-github-delivery": randomUUID() } }) }],
  });
  return { p50: result.latency.p50, p99: result.latency.p99, ok: result["2xx"], errors: result.non2xx + result.errors };
}

const rssMb = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

const report: string[] = [];
const dataDir = await mkdtemp(join(tmpdir(), "ms-bench-"));
try {
  // 1. ack latency
  const app = await child(dataDir, "ok");
  const bare = await spawnServer(new URL("./bare-child.ts", import.meta.url).pathname, childEnv);
  report.push(
    `| rate | microship p50 | microship p99 | bare Probot p50 | bare Probot p99 | p99 difference | microship in-server p99 / max | bare in-server p99 / max | 2xx | stored |`,
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
      `| ${rate}/s | ${ours.p50} ms | ${ours.p99} ms | ${theirs.p50} ms | ${theirs.p99} ms | ${ours.p99 - theirs.p99} ms | ${ourTiming.p99} / ${ourTiming.max} ms | ${theirTiming.p99} / ${theirTiming.max} ms | ${ours.ok} (${ours.errors} errors) | ${stored} |`,
    );
  }
  bare.kill();

  app.kill();

  // 3. memory
  const memDir = await mkdtemp(join(tmpdir(), "ms-bench-mem-"));
  const idle = await child(memDir, "hang");
  await new Promise((r) => setTimeout(r, 2_000));
  const idleRss = await rssMb(idle.pid);
  // 2. first feedback, with the builder busy on one build and the installation's write queue idle
  const firsts: number[] = [];
  for (let i = 0; i < (quick ? 5 : 20); i++) {
    const s = fake.commit({ owner: "bench", repo: "app", branch: `ff-${i}`, files: { "i.js": String(i) } });
    const p = structuredClone(push);
    Object.assign(p, { ref: `refs/heads/ff-${i}`, after: s });
    const t0 = Date.now();
    await sendWebhook(`${idle.url}/api/github/webhooks`, { event: "push", payload: p, secret: creds.webhookSecret });
    const run = await fake.waitFor(() => fake.checkRuns("bench", "app").find((r) => r.head_sha === s), 10_000);
    firsts.push(run.history[0]!.time - t0);
    await new Promise((r) => setTimeout(r, 1_100));
  }
  firsts.sort((a, b) => a - b);
  report.push("", `First feedback (delivery sent → queued check run at GitHub): p50 ${firsts[Math.floor(firsts.length / 2)]} ms, max ${firsts.at(-1)} ms over ${firsts.length} pushes.`);

  for (let i = 0; i < 500; i++) {
    const p = structuredClone(push);
    Object.assign(p, { ref: `refs/heads/q-${i}`, after: `${i.toString(16).padStart(8, "0")}${"e".repeat(32)}` });
    await sendWebhook(`${idle.url}/api/github/webhooks`, { event: "push", payload: p, secret: creds.webhookSecret });
  }
  await new Promise((r) => setTimeout(r, 3_000));
  report.push("", `RSS idle: ${idleRss.toFixed(0)} MB; with 500 queued builds: ${(await rssMb(idle.pid)).toFixed(0)} MB.`);
  idle.kill();
  await rm(memDir, { recursive: true, force: true });

  // 4. API calls of one 2-minute build with a steady log
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
} finally {
  await fake.close();
  await rm(dataDir, { recursive: true, force: true });
}
console.log(report.join("\n"));

function countDeliveries(dir: string): number {
  const db = new DatabaseSync(join(dir, "microship.sqlite"), { readOnly: true });
  try {
    return Number((db.prepare("SELECT COUNT(*) AS n FROM deliveries").get() as { n: number }).n);
  } finally {
    db.close();
  }
}
