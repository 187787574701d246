import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { startMicroship, type Overrides, type RunningMicroship } from "../../src/main.ts";
import { loadEnv } from "../../src/config/env.ts";
import { createLogger } from "../../src/log/logger.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github/github-fake.ts";
import { appCredentials, type AppCredentials } from "../fakes/app-credentials.ts";
import { cleanupAll } from "./cleanup.ts";
import { unmountUnder } from "../../src/builder/buildah/release-storage.ts";
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
  prPayload(o: { action: "opened" | "synchronize" | "reopened" | "closed"; number: number; sha: string; headRef?: string; fork?: boolean }): Record<string, any>;
  commentPayload(o: { number: number; body: string; user: string; bot?: boolean; commentId?: number }): Record<string, any>;
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
      const p = withRepo(loadExample("push", (e) => e.ref?.startsWith("refs/heads/") && !e.deleted), { owner: OWNER, repo: REPO, installationId: INSTALLATION, repositoryId: fake.state.repo(OWNER, REPO)?.id });
      p.ref = `refs/heads/${branch}`;
      p.after = sha;
      p.deleted = false;
      if (changed) p.commits = [{ ...(p.commits?.[0] ?? {}), added: changed, modified: [], removed: [] }];
      return p;
    },
    prPayload({ action, number, sha, headRef = "feature", fork = false }) {
      const p = withRepo(loadExample("pull_request", (e) => e.action === action || (action === "reopened" && e.action === "opened")), { owner: OWNER, repo: REPO, installationId: INSTALLATION, repositoryId: fake.state.repo(OWNER, REPO)?.id });
      p.action = action;
      p.number = number;
      p.pull_request.number = number;
      p.pull_request.head.sha = sha;
      p.pull_request.head.ref = headRef;
      p.pull_request.head.repo = fork
        ? { ...p.pull_request.base.repo, name: REPO, full_name: `a-forker/${REPO}`, owner: { ...p.pull_request.base.repo.owner, login: "a-forker" }, fork: true }
        : { ...p.pull_request.base.repo };
      return p;
    },
    commentPayload({ number, body, user, bot = false, commentId = 9001 }) {
      const p = withRepo(loadExample("issue_comment", (e) => e.action === "created"), { owner: OWNER, repo: REPO, installationId: INSTALLATION, repositoryId: fake.state.repo(OWNER, REPO)?.id });
      p.issue.number = number;
      // The examples' comments are on issues; a PR comment differs only by this link.
      p.issue.pull_request = { url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${number}`, html_url: "", diff_url: "", patch_url: "" };
      p.comment.body = body;
      p.comment.id = commentId;
      p.comment.user.login = user;
      p.comment.user.type = bot ? "Bot" : "User";
      p.sender.login = user;
      p.sender.type = bot ? "Bot" : "User";
      return p;
    },
    async stop() {
      await cleanupAll(
        () => app.stop(),
        () => fake.close(),
        // A build the app could not stop cleanly may leave buildah's mounts behind.
        () => unmountUnder(dataDir),
        () => rm(dataDir, { recursive: true, force: true }),
      );
    },
  };
}
