/**
 * Replicas of microship (app children with the scripted builder) over one Postgres database and
 * one GitHub fake, as a deployment behind a load balancer runs them: each replica has a data dir
 * of its own and they share DATABASE_URL, MICROSHIP_REGISTRY and MICROSHIP_LOG_SECRET.
 * Used by the scale tests and by bench/scale.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startGitHubFake, type GitHubFake } from "../fakes/github/github-fake.ts";
import { appCredentials } from "../fakes/app-credentials.ts";
import { sendWebhook, loadExample, withRepo } from "../fakes/webhooks.ts";
import { startAppChild, type AppChild } from "./app-child-process.ts";
import { cleanupAll } from "./cleanup.ts";

export interface ReplicaWorld {
  fake: GitHubFake;
  db: pg.Client;
  replicas: AppChild[];
  /** The App's credentials as a replica's env (and the bare Probot's in bench/scale). */
  childEnv: Record<string, string>;
  /** A push payload of the repository o/r, for a body signed once and sent many times. */
  pushTemplate: Record<string, unknown>;
  replica(builder: string, extra?: Record<string, string>): Promise<AppChild>;
  /** `n` commits on branches `${prefix}0`.. at once (one git fast-import): the fake's commit() spawns git five times per commit. */
  branches(prefix: string, n: number): { branch: string; sha: string }[];
  /** A signed push delivery of `sha` on `branch` to `to`; its status is GitHub's view of the ack. */
  push(to: string, branch: string, sha: string, deliveryId?: string): Promise<{ status: number; deliveryId: string }>;
  /** Which replica's builder ran each build (the scripted builder logs its pid), with tries and state. */
  builtBy(): Promise<Map<string, { tries: number; state: string; sha: string; pids: number[] }>>;
  close(): Promise<void>;
}

export async function replicaWorld(databaseUrl: string, baseEnv: Record<string, string> = {}): Promise<ReplicaWorld> {
  const creds = appCredentials();
  const fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  const dir = await mkdtemp(join(tmpdir(), "ms-replicas-"));
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  db.on("error", () => {}); // a test that restarts Postgres reconnects with a client of its own
  const replicas: AppChild[] = [];
  fake.createRepo({ owner: "o", repo: "r", installationId: 5 });
  const template = withRepo(loadExample("push", (e) => e.ref?.startsWith("refs/heads/")), { owner: "o", repo: "r", installationId: 5 });
  const childEnv = { APP_ID: String(creds.appId), PRIVATE_KEY: creds.privateKeyPem, WEBHOOK_SECRET: creds.webhookSecret };
  return {
    fake, db, replicas, childEnv, pushTemplate: template,
    async replica(builder, extra = {}) {
      const child = await startAppChild({
        ...childEnv, GHE_HOST: fake.host, GHE_PROTOCOL: "http",
        PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", MICROSHIP_DATA_DIR: await mkdtemp(join(dir, `replica-${replicas.length}-`)), MICROSHIP_BUILDER: "host",
        DATABASE_URL: databaseUrl, MICROSHIP_REGISTRY: "registry.example.com/team", MICROSHIP_LOG_SECRET: "one-secret-for-every-replica", MS_CHILD_BUILDER: builder,
        ...baseEnv, ...extra,
      });
      replicas.push(child);
      return child;
    },
    branches(prefix, n) {
      const gitDir = fake.repos.path("o", "r");
      const marks = join(dir, `${prefix}.marks`);
      let stream = "";
      for (let i = 0; i < n; i++) {
        const content = `${prefix}${i}\n`;
        stream += `commit refs/heads/${prefix}${i}\nmark :${i + 1}\ncommitter t <t@example.com> 1700000000 +0000\ndata 0\nM 644 inline x\ndata ${content.length}\n${content}\n`;
      }
      execFileSync("git", ["--git-dir", gitDir, "fast-import", "--quiet", `--export-marks=${marks}`], { input: stream });
      const shas = new Map(execFileSync("cat", [marks]).toString().trim().split("\n").map((l) => l.split(" ") as [string, string]));
      return Array.from({ length: n }, (_, i) => ({ branch: `${prefix}${i}`, sha: shas.get(`:${i + 1}`)! }));
    },
    async push(to, branch, sha, deliveryId) {
      const payload = { ...template, ref: `refs/heads/${branch}`, after: sha, deleted: false };
      const r = await sendWebhook(`${to}/api/github/webhooks`, { event: "push", payload, secret: creds.webhookSecret, deliveryId });
      return { status: r.status, deliveryId: r.deliveryId };
    },
    async builtBy() {
      const rows = (await db.query("SELECT b.id, b.tries, b.state, b.sha, c.lines FROM builds b LEFT JOIN log_chunks c ON c.build_id = b.id ORDER BY b.created_at, c.seq")).rows;
      const out = new Map<string, { tries: number; state: string; sha: string; pids: number[] }>();
      for (const row of rows) {
        const entry = out.get(row.id) ?? { tries: Number(row.tries), state: String(row.state), sha: String(row.sha), pids: [] as number[] };
        out.set(row.id, entry);
        for (const line of JSON.parse(row.lines ?? "[]") as { text: string }[]) {
          const m = /^child (\d+) building /.exec(line.text);
          if (m) entry.pids.push(Number(m[1]));
        }
      }
      return out;
    },
    close: () => cleanupAll(...replicas.map((c) => () => c.stop()), () => db.end(), () => fake.close(), () => rm(dir, { recursive: true, force: true })),
  };
}
