/**
 * microship with the dashboard on, against the GitHub fake: two users (alice can write to
 * octo-org/shop and sees other-org/tools; bob only reads shop; nobody is shown octo-org/secret,
 * though it is in alice's installation), builds scripted per sha, and Chromium to drive it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { startHarness, OWNER, REPO, INSTALLATION, type Harness } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer, waitForAbort } from "../../helpers/pipeline-doubles.ts";
import { withRepo } from "../../fakes/webhooks.ts";
import type { BuildRecord } from "../../../src/core/build.ts";
import type { Overrides } from "../../../src/main.ts";
import { OutputLine } from "../../../src/core/log-text.ts";
import { styledLogText } from "../../../src/core/log-style.ts";

export const CLIENT_ID = "Iv23liDashboardTest";
export const CLIENT_SECRET = "dashboard-client-secret-0123456789abcdef";
export const TOOLS = { owner: "other-org", repo: "tools", installationId: 88 };

/** What a build of a sha does: log these lines, then wait for `release` (or the abort), in steps. */
export interface BuildScript {
  steps: { lines: string[]; gate?: Promise<void> }[];
  hang?: boolean;
}

export interface World {
  h: Harness;
  url: string;
  scripts: Map<string, BuildScript>;
  push(o: { repo?: typeof TOOLS | null; branch: string; message?: string; files?: Record<string, string> }): Promise<BuildRecord>;
  browser(login: string, o?: { javaScript?: boolean }): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }>;
  stop(): Promise<void>;
}

/** Polls until `probe` gives a value; a test's own timeout bounds it. */
export async function until<T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

export function gate(): { promise: Promise<void>; release(): void } {
  let release!: () => void;
  const promise = new Promise<void>((ok) => (release = ok));
  return { promise, release };
}

export async function startWorld(env: Record<string, string> = {}, overrides: Overrides = {}): Promise<World> {
  const scripts = new Map<string, BuildScript>();
  const builder = new ScriptedBuilder(async (input, log) => {
    const script = scripts.get(input.tags[0]!);
    for (const step of script?.steps ?? []) {
      // As a real builder's LineSplitter makes them: clean text, colours beside it.
      for (const line of step.lines) {
        const styled = styledLogText(line);
        log(new OutputLine(Date.now(), "stdout", styled.text, styled.runs));
      }
      if (step.gate) await Promise.race([step.gate, waitForAbort(input.signal)]);
    }
    if (script?.hang) await waitForAbort(input.signal);
    // Each sha its own image, so a rollback has another one to go back to.
    return { digest: `sha256:${input.tags[0]!.replace(/[^0-9a-f]/g, "").padEnd(64, "d").slice(0, 64)}` };
  });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const h = await startHarness(
    { builder, planner: fixedPlanner(), archiver: emptyArchiver, images: namer, ...overrides },
    { PORT: String(port), MICROSHIP_PUBLIC_URL: url, MICROSHIP_CONCURRENCY: "4", GITHUB_CLIENT_ID: CLIENT_ID, GITHUB_CLIENT_SECRET: CLIENT_SECRET, ...env },
  );
  h.fake.users.client = { id: CLIENT_ID, secret: CLIENT_SECRET, callbackUrl: `${url}/login/callback` };
  h.fake.createRepo({ owner: OWNER, repo: "secret", installationId: INSTALLATION });
  h.fake.createRepo(TOOLS);
  h.fake.users.addUser("alice", [`${OWNER}/${REPO}`, `${TOOLS.owner}/${TOOLS.repo}`]);
  h.fake.users.addUser("bob", [`${OWNER}/${REPO}`]);
  h.fake.setPermission(OWNER, REPO, "alice", "write");
  h.fake.setPermission(OWNER, REPO, "bob", "read");
  const dirs: string[] = [];
  let n = 0;
  return {
    h, url, scripts,
    async push({ repo = null, branch, message = "a change", files }) {
      const where = repo ?? { owner: OWNER, repo: REPO, installationId: INSTALLATION };
      const sha = h.fake.commit({ owner: where.owner, repo: where.repo, branch, files: files ?? { "README.md": `change ${n++}\n` }, message });
      const payload = withRepo(h.pushPayload({ sha, branch }), where);
      payload.head_commit = { ...(payload.head_commit ?? {}), id: sha, message };
      await h.send("push", payload);
      return until(() => h.app.store.latestBuildForSha(where.owner, where.repo, sha, true), `a build of ${sha}`);
    },
    async browser(login, o = {}) {
      h.fake.users.signedIn = login;
      const dir = await mkdtemp(join(tmpdir(), "ms-chromium-"));
      dirs.push(dir);
      const context = await chromium.launchPersistentContext(dir, {
        executablePath: "/usr/bin/chromium",
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        acceptDownloads: true,
        javaScriptEnabled: o.javaScript ?? true,
      });
      const page = context.pages()[0] ?? (await context.newPage());
      return { context, page, close: () => context.close() };
    },
    async stop() {
      await h.stop();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
}
