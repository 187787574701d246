import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGitHubFake } from "../../fakes/github/github-fake.ts";
import { appCredentials } from "../../fakes/app-credentials.ts";
import { sendWebhook, loadExample, withRepo } from "../../fakes/webhooks.ts";
import { startAppChild } from "../../helpers/app-child-process.ts";

test("killed mid-build, then restarted: the build resumes and its check run ends; nothing stays in progress", async () => {
  const creds = appCredentials();
  const fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  const dataDir = await mkdtemp(join(tmpdir(), "ms-crash-"));
  const env = {
    APP_ID: String(creds.appId), PRIVATE_KEY: creds.privateKeyPem, WEBHOOK_SECRET: creds.webhookSecret, GHE_HOST: fake.host, GHE_PROTOCOL: "http",
    PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", MICROSHIP_DATA_DIR: dataDir, MICROSHIP_BUILDER: "host",
  };
  let child: ChildProcess | null = null;
  try {
    fake.createRepo({ owner: "o", repo: "r", installationId: 5 });
    const sha = fake.commit({ owner: "o", repo: "r", branch: "main", files: { "x": "1" } });
    const first = await startAppChild({ ...env, MS_CHILD_BUILDER: "hang" });
    child = first.child;
    const push = withRepo(loadExample("push", (e) => e.ref?.startsWith("refs/heads/")), { owner: "o", repo: "r", installationId: 5 });
    Object.assign(push, { ref: "refs/heads/main", after: sha, deleted: false });
    assert.equal((await sendWebhook(`${first.url}/api/github/webhooks`, { event: "push", payload: push, secret: creds.webhookSecret })).status, 200);
    const run = await fake.waitFor(() => fake.checkRuns("o", "r").find((r) => r.status === "in_progress"), 20_000, "the build to start");
    child.kill("SIGKILL");
    await new Promise((r) => child!.once("exit", r));

    const second = await startAppChild({ ...env, MS_CHILD_BUILDER: "ok" });
    child = second.child;
    const done = await fake.waitFor(() => {
      const r = fake.state.checkRuns.get(run.id);
      return r?.status === "completed" && r;
    }, 30_000, "the interrupted check run to complete");
    assert.equal(done.conclusion, "success", "the resumed build finished on the same check run");
    assert.equal(fake.checkRuns("o", "r").length, 1);
    assert.match(done.output.text ?? "", /Resuming after an interruption/);
    assert.deepEqual(fake.unknownCalls(), []);
  } finally {
    child?.kill("SIGKILL");
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
