/**
 * The memory bound: the app's RSS stays under 300 MB while it is sent, one after another,
 * a forged 1 GiB webhook body, a push whose `.dockerignore` backtracks on a regex translation,
 * and a build that prints a 64 MiB line and then 1 GB of log. The app runs in a child process
 * (its RSS is its own) with the real checkout, config reader, detection and archiver; only the
 * builder is scripted, and it feeds its output through the same LineSplitter as real builders.
 *
 * Measured here: 140 MiB at the start, a peak of 276 to 278 MiB, about 14 s in all. Before the
 * LineSplitter decoded big reads in pieces, the same run peaked at 423 to 450 MiB (the live heap
 * stayed near 35 MiB: it was what the collector had not yet taken back). About one run in five,
 * and once in CI, peaked near 380 MiB instead: V8 had pretenured the object literal that made each
 * line, so every line was born in the old generation (a full collection every 300 ms, 60 to 90 MiB
 * of pooled pages). Hot-path lines are class instances now (core/log-text.ts OutputLine); 8 runs
 * after that peaked at 268 to 282 MiB with no pretenured site of the log path.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGitHubFake } from "../fakes/github/github-fake.ts";
import type { FileSpec } from "../fakes/github/git-repos.ts";
import { appCredentials } from "../fakes/app-credentials.ts";
import { loadExample, sendWebhook, withRepo } from "../fakes/webhooks.ts";
import { assertHealthy, probeHealth, rssMiB, startAppChild, streamPost, watchRss } from "./http-child.ts";

const GiB = 1024 ** 3;
const FLOOD_BYTES = Number(process.env.RSS_FLOOD_BYTES ?? 1e9);
const REPO = { owner: "attacker", repo: "flood", installationId: 91 };
const PUBLIC_URL = "http://microship.test";
const pad = (unit: string, len: number) => unit.repeat(Math.floor(len / unit.length));

test("a forged 1 GiB body, a backtracking .dockerignore and a 1 GB log, one after another: RSS stays under 300 MB and /healthz keeps answering", { timeout: 170_000 }, async (t) => {
  const started = performance.now();
  const creds = appCredentials();
  const fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  fake.createRepo(REPO);
  const dataDir = await mkdtemp(join(tmpdir(), "ms-sec-rss-"));
  t.after(async () => {
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const app = await startAppChild({
    APP_ID: String(creds.appId), PRIVATE_KEY: creds.privateKeyPem, WEBHOOK_SECRET: creds.webhookSecret, GHE_HOST: fake.host, GHE_PROTOCOL: "http",
    PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", MICROSHIP_DATA_DIR: dataDir, MICROSHIP_BUILDER: "host", MICROSHIP_REGISTRY: "registry.test",
    MICROSHIP_PUBLIC_URL: PUBLIC_URL, MS_CHILD_BUILDER: "flood", MS_CHILD_FLOOD_BYTES: String(FLOOD_BYTES), MS_CHILD_REAL_SOURCE: "1", MS_CHILD_PROGRESS_MS: "1000",
    // To see where the memory goes: MS_CHILD_MEM_TRACE=1, or V8 flags for the app alone.
    ...(process.env.RSS_CHILD_NODE_OPTIONS ? { NODE_OPTIONS: process.env.RSS_CHILD_NODE_OPTIONS } : {}),
  });
  t.after(() => app.stop());
  await (await fetch(`${app.url}/healthz`)).text();

  // Killed past +1 GiB, so the old code fails here instead of taking the machine's memory.
  const rss = watchRss(app, 1024);
  t.after(() => void rss.stop());
  const health = probeHealth(app.url);
  t.after(async () => void (await health.stop()));
  await health.ready;
  const marks: string[] = [];
  const mark = (what: string) => {
    marks.push(`${what} at ${((performance.now() - started) / 1000).toFixed(1)} s`);
    t.diagnostic(`${marks.at(-1)}, RSS ${rssMiB(app.child.pid!).toFixed(0)} MiB`);
  };

  const push = async (branch: string, files: Record<string, FileSpec>, timeoutMs: number) => {
    const sha = fake.commit({ owner: REPO.owner, repo: REPO.repo, branch, files });
    const payload = withRepo(loadExample("push", (e) => e.ref?.startsWith("refs/heads/") && !e.deleted), REPO);
    Object.assign(payload, { ref: `refs/heads/${branch}`, after: sha, deleted: false });
    const res = await sendWebhook(`${app.url}/api/github/webhooks`, { event: "push", payload, secret: creds.webhookSecret });
    assert.equal(res.status, 200, `the push of ${branch} was answered ${res.status}`);
    return fake.waitFor(() => fake.checkRuns(REPO.owner, REPO.repo).find((r) => r.head_sha === sha && r.status === "completed"), timeoutMs, `the check run of ${branch}`);
  };

  // 1. A forged body far over GitHub's 25 MB.
  const forged = await streamPost(`${app.url}/api/github/webhooks`, {
    bytes: GiB, chunked: false, timeoutMs: 15_000, first: Buffer.from('{"zen":"'),
    headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": crypto.randomUUID(), "x-hub-signature-256": `sha256=${"0".repeat(64)}` },
  });
  mark(`413 after ${forged.sentBytes} bytes`);
  assert.equal(forged.status, 413, `the forged body got ${forged.status} (${forged.error ?? forged.body})`);

  // 2. `**a` repeated becomes `.*a` repeated in a regex: exponential against a deep path of a.
  const deep = pad("a/", 120) + "a";
  const ignoreRun = await push("ignore", {
    "package.json": JSON.stringify({ name: "app", scripts: { start: "node index.js" } }), "index.js": "console.log(1)\n",
    ".dockerignore": `${pad("**a", 4000)}b\n**/*.log\n!${pad("*a", 4000)}\n`, [`${deep}/x.log`]: "", [`${deep}/keep.js`]: "",
  }, 30_000);
  mark(`.dockerignore build ${ignoreRun.conclusion}`);
  const ignoreText = [ignoreRun.output.title, ignoreRun.output.summary, ignoreRun.output.text].join("\n");
  assert.ok(ignoreRun.conclusion === "success" || (ignoreRun.conclusion === "failure" && ignoreText.includes(".dockerignore")), `the .dockerignore build: ${ignoreRun.conclusion}: ${ignoreText.slice(0, 400)}`);

  // 3. A build that prints a 64 MiB line, 1 GB of lines, and another 64 MiB line.
  const floodRun = await push("flood", { Dockerfile: "FROM alpine:3.20\nCOPY flood.sh /\nRUN sh /flood.sh\n", "flood.sh": "yes flood | head -c 1000000000\n" }, 150_000);
  mark(`flood build ${floodRun.conclusion}`);
  assert.equal(floodRun.conclusion, "success", `the flood build: ${floodRun.output.title}: ${floodRun.output.summary?.slice(0, 400)}`);
  assert.match(floodRun.output.text ?? "", /line cut: \d+ bytes/, "the check run's log shows the cut line");
  const page = await fetch(floodRun.details_url!.replace(PUBLIC_URL, app.url)).then(async (r) => ({ status: r.status, text: await r.text() }));
  mark(`log page ${page.status}, ${page.text.length} chars`);

  if (process.env.MS_CHILD_MEM_TRACE) t.diagnostic(app.output().split("\n").filter((l) => l.startsWith("MEM")).join("\n"));
  const probed = await health.stop();
  const mem = rss.stop();
  t.diagnostic(`RSS ${mem.base.toFixed(0)} MiB at the start, peak ${mem.peak.toFixed(0)} MiB (+${mem.delta.toFixed(0)}); /healthz p90 ${probed.p90.toFixed(1)} ms, slowest ${probed.max.toFixed(1)} ms of ${probed.count}; ${marks.join("; ")}`);
  assert.equal(mem.killed, false, "the app grew by over 1 GiB");
  assert.ok(mem.peak < 300, `RSS peaked at ${mem.peak.toFixed(0)} MiB`);
  assert.equal(page.status, 200);
  assert.match(page.text, /log truncated at 50 MB; the build goes on/, "the stored log says it was truncated");
  assertHealthy(probed, assert);
});
