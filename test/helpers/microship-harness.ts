import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { startMicroship, type Overrides, type RunningMicroship } from "../../src/main.ts";
import { loadEnv } from "../../src/config/env.ts";
import { createLogger } from "../../src/log/logger.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github/github-fake.ts";
import { appCredentials, type AppCredentials } from "../fakes/app-credentials.ts";
import { sendWebhook, loadExample, withRepo } from "../fakes/webhooks.ts";

export interface Harness {
  fake: GitHubFake;
  app: RunningMicroship;
  creds: AppCredentials;
  dataDir: string;
  /** Everything the operator log printed, for secret-leak checks. */
  opLog(): string;
  send(event: string, payload: unknown, deliveryId?: string): ReturnType<typeof sendWebhook>;
  pushPayload(o: { sha: string; branch?: string; changed?: string[] }): Record<string, any>;
  stop(): Promise<void>;
}

export const OWNER = "octo-org";
export const REPO = "shop";
export const INSTALLATION = 77;

/** microship on the real HTTP server and Probot, against the GitHub fake, with a temp data dir. */
export async function startHarness(overrides: Overrides = {}, env: Record<string, string> = {}): Promise<Harness> {
  const creds = appCredentials();
  const fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  fake.createRepo({ owner: OWNER, repo: REPO, installationId: INSTALLATION });
  const dataDir = await mkdtemp(join(tmpdir(), "ms-harness-"));
  let logged = "";
  const sink = new Writable({ write(chunk, _e, cb) { logged += chunk.toString(); cb(); } });
  const app = await startMicroship(
    loadEnv({
      APP_ID: String(creds.appId), PRIVATE_KEY: creds.privateKeyPem, WEBHOOK_SECRET: creds.webhookSecret,
      GHE_HOST: fake.host, GHE_PROTOCOL: "http", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "debug",
      MICROSHIP_DATA_DIR: dataDir, MICROSHIP_BUILDER: "host", MICROSHIP_PUBLIC_URL: "http://microship.test", ...env,
    }),
    { logger: createLogger("debug", sink as never), progressIntervalMs: 200, pollMs: 200, leaseMs: 3_000, ...overrides },
  );
  return {
    fake, app, creds, dataDir,
    opLog: () => logged,
    send: (event, payload, deliveryId) => sendWebhook(`${app.url}/api/github/webhooks`, { event, payload, secret: creds.webhookSecret, deliveryId }),
    pushPayload({ sha, branch = "feature", changed }) {
      const p = withRepo(loadExample("push", (e) => e.ref?.startsWith("refs/heads/") && !e.deleted), { owner: OWNER, repo: REPO, installationId: INSTALLATION });
      p.ref = `refs/heads/${branch}`;
      p.after = sha;
      p.deleted = false;
      if (changed) p.commits = [{ ...(p.commits?.[0] ?? {}), added: changed, modified: [], removed: [] }];
      return p;
    },
    async stop() {
      await app.stop();
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
