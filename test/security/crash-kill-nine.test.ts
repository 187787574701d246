/**
 * The crash test: microship in a child process is killed with SIGKILL twenty times, at seeded
 * random moments and right after GitHub writes land (a run created, started, updated or
 * concluded), across twelve builds in two installations. After the last restart every check run
 * of every build ends `completed`, and no build has two runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { startAppChild } from "../helpers/app-child-process.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGitHubFake, type GitHubFake, type RecordedCall } from "../fakes/github/github-fake.ts";
import { appCredentials } from "../fakes/app-credentials.ts";
import { sendWebhook, loadExample, withRepo } from "../fakes/webhooks.ts";
import { mulberry32 } from "../helpers/mulberry32.ts";

const KILLS = 20;
const SEED = Number(process.env.CRASH_SEED ?? 20261203);
const REPOS = [
  { owner: "crash", repo: "one", installationId: 5 },
  { owner: "crash", repo: "two", installationId: 6 },
];

type WriteKind = "create" | "start" | "progress" | "complete";

function writeKind(c: RecordedCall): WriteKind | null {
  if (c.auth !== "installation" || c.status < 200 || c.status >= 300) return null;
  if (c.operationId === "checks/create") return "create";
  if (c.operationId !== "checks/update") return null;
  const status = (c.body as { status?: string } | null)?.status;
  return status === "completed" ? "complete" : status === "in_progress" ? "start" : "progress";
}

interface Delivery {
  owner: string;
  repo: string;
  sha: string;
  payload: Record<string, any>;
  deliveryId: string | null;
  acked: boolean;
}

test("twenty SIGKILLs at random moments and right after GitHub writes: every run ends completed, none is duplicated", { timeout: 240_000 }, async (t) => {
  const random = mulberry32(SEED);
  const creds = appCredentials();
  const fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  const dataDir = await mkdtemp(join(tmpdir(), "ms-crash9-"));
  const env = {
    APP_ID: String(creds.appId), PRIVATE_KEY: creds.privateKeyPem, WEBHOOK_SECRET: creds.webhookSecret, GHE_HOST: fake.host, GHE_PROTOCOL: "http",
    PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "fatal", MICROSHIP_DATA_DIR: dataDir, MICROSHIP_BUILDER: "host", MICROSHIP_REGISTRY: "registry.test",
    MICROSHIP_CONCURRENCY: "2", MS_CHILD_BUILDER: "steady", MS_CHILD_STEADY_SECONDS: "2", MS_CHILD_PROGRESS_MS: "700",
  };
  const deliveries: Delivery[] = [];
  const killedAfter: string[] = [];
  let child: ChildProcess | null = null;
  let url = "";

  const push = (r: (typeof REPOS)[number], branch: string) => {
    const sha = fake.commit({ owner: r.owner, repo: r.repo, branch, files: { "a.txt": `${branch} ${random()}` } });
    const payload = withRepo(loadExample("push", (e) => e.ref?.startsWith("refs/heads/") && !e.deleted), r);
    Object.assign(payload, { ref: `refs/heads/${branch}`, after: sha, deleted: false });
    deliveries.push({ owner: r.owner, repo: r.repo, sha, payload, deliveryId: null, acked: false });
  };
  // GitHub redelivers what was not acknowledged (here at once, with the same delivery id).
  const deliver = async () => {
    for (const d of deliveries.filter((x) => !x.acked)) {
      try {
        const res = await sendWebhook(`${url}/api/github/webhooks`, { event: "push", payload: d.payload, secret: creds.webhookSecret, deliveryId: d.deliveryId ?? undefined });
        d.deliveryId = res.deliveryId;
        d.acked = res.status === 200;
      } catch {
        // The child died mid-request: redelivered after the restart.
      }
    }
  };
  const restart = async () => {
    ({ child, url } = await startAppChild(env));
    void deliver();
  };
  const kill = async (why: string) => {
    child!.kill("SIGKILL");
    if (child!.exitCode === null && child!.signalCode === null) await new Promise((r) => child!.once("exit", r));
    killedAfter.push(why);
  };
  const writes = () => fake.calls.filter((c) => writeKind(c) !== null);
  const afterNextWrite = async (kind: WriteKind | null, timeoutMs: number): Promise<string> => {
    const seen = fake.calls.length;
    try {
      const c = await fake.waitFor(() => fake.calls.slice(seen).find((x) => writeKind(x) !== null && (kind === null || writeKind(x) === kind)), timeoutMs, `a ${kind ?? "write"}`);
      return `after ${writeKind(c)}`;
    } catch {
      return `after ${timeoutMs} ms without a ${kind ?? "write"}`;
    }
  };

  try {
    for (const r of REPOS) fake.createRepo(r);
    for (const r of REPOS) for (const b of ["b1", "b2", "b3"]) push(r, b);
    await restart();
    // The first kills hit the moments the holes were about, in order; then the seeded mix.
    const plan: (WriteKind | "any" | "random")[] = ["create", "start", "progress", "complete"];
    for (let i = 0; i < KILLS; i++) {
      // New pushes keep builds running through the later kills, so they don't land on an idle app.
      if (i > 0 && i % 5 === 0) {
        for (const r of REPOS) push(r, `b${3 + i / 5}`);
        void deliver();
      }
      const step = plan[i] ?? (random() < 0.6 ? "any" : "random");
      let why: string;
      if (step === "random") {
        const ms = Math.floor(random() * 1500);
        await new Promise((r) => setTimeout(r, ms));
        why = `at a random ${ms} ms`;
      } else {
        // The planned kinds may be a few throttled writes away; "any" write comes soon or not at all.
        why = await afterNextWrite(step === "any" ? null : step, step === "any" ? 2_500 : 6_000);
      }
      await kill(why);
      await restart();
    }

    const byRun = () => {
      const runs = REPOS.flatMap((r) => fake.checkRuns(r.owner, r.repo));
      return deliveries.map((d) => ({ d, runs: runs.filter((x) => x.head_sha === d.sha && x.owner === d.owner && x.repo === d.repo) }));
    };
    await fake.waitFor(() => byRun().every(({ runs }) => runs.length > 0 && runs.every((x) => x.status === "completed")), 90_000, "every build's runs to complete")
      .catch((err) => {
        throw new Error(`${err.message}\n${byRun().map(({ d, runs }) => `${d.repo}@${d.sha.slice(0, 8)} acked=${d.acked}: ${runs.map((x) => `${x.id}:${x.status}/${x.conclusion}`).join(" ")}`).join("\n")}\nkills: ${killedAfter.join("; ")}`);
      });
    // Settle: anything still in flight would show up as a late duplicate.
    await new Promise((r) => setTimeout(r, 2_500));
    for (const { d, runs } of byRun()) {
      const names = runs.map((x) => x.name);
      assert.equal(new Set(names).size, names.length, `${d.repo}@${d.sha.slice(0, 8)} has one run per name, got ${runs.map((x) => `${x.id}:${x.name}:${x.status}`).join(", ")}; kills: ${killedAfter.join("; ")}`);
      for (const x of runs) assert.equal(x.status, "completed", `run ${x.id} of ${d.repo}@${d.sha.slice(0, 8)}`);
    }
    t.diagnostic(`seed ${SEED}; ${deliveries.length} builds; kills: ${killedAfter.join("; ")}`);
    assert.equal(killedAfter.length, KILLS);
    assert.ok(killedAfter.some((w) => w === "after create"), `a kill landed right after a run was created: ${killedAfter.join("; ")}`);
    assert.ok(writes().length > KILLS, "the builds were writing to GitHub while they were killed");
    assert.deepEqual(fake.unknownCalls(), []);
    assert.deepEqual(fake.rejectedCalls().map((c) => `${c.method} ${c.path}`), []);
  } finally {
    const c = child as ChildProcess | null;
    c?.kill("SIGKILL");
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
