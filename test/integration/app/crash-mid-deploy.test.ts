import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGitHubFake } from "../../fakes/github/github-fake.ts";
import { fakeDeployments } from "../../fakes/github/deployment-handlers.ts";
import { appCredentials } from "../../fakes/app-credentials.ts";
import { sendWebhook, loadExample, withRepo } from "../../fakes/webhooks.ts";
import { startAppChild } from "../../helpers/app-child-process.ts";
import { startHypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { ScriptedBuilder } from "../../helpers/pipeline-doubles.ts";

test("killed mid-deploy, then restarted: the build resumes, the deploy finishes, no deployment stays in progress and no orphan instance is left", async () => {
  const creds = appCredentials();
  const fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  const hypeman = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest: `sha256:${"0".repeat(64)}` })), registry: "registry.test" });
  const dataDir = await mkdtemp(join(tmpdir(), "ms-crash-deploy-"));
  const env = {
    APP_ID: String(creds.appId), PRIVATE_KEY: creds.privateKeyPem, WEBHOOK_SECRET: creds.webhookSecret, GHE_HOST: fake.host, GHE_PROTOCOL: "http",
    PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", MICROSHIP_DATA_DIR: dataDir, MICROSHIP_BUILDER: "host",
    MICROSHIP_DEPLOYER: "hypeman", HYPEMAN_BASE_URL: hypeman.url, HYPEMAN_API_KEY: hypeman.token(), MICROSHIP_DEPLOY_DOMAIN: "preview.test",
    MS_CHILD_BUILDER: "ok",
  };
  let child: ChildProcess | null = null;
  try {
    fake.createRepo({ owner: "o", repo: "r", installationId: 5 });
    const sha = fake.commit({ owner: "o", repo: "r", branch: "main", files: { "x": "1" } });
    // The new instance never gets healthy while the first process lives: it dies with its deploy half done.
    hypeman.deploy.faults.healthAfterReads = Number.MAX_SAFE_INTEGER;
    const first = await startAppChild(env);
    child = first.child;
    const push = withRepo(loadExample("push", (e) => e.ref?.startsWith("refs/heads/")), { owner: "o", repo: "r", installationId: 5 });
    Object.assign(push, { ref: "refs/heads/main", after: sha, deleted: false });
    assert.equal((await sendWebhook(`${first.url}/api/github/webhooks`, { event: "push", payload: push, secret: creds.webhookSecret })).status, 200);
    const orphan = await fake.waitFor(() => [...hypeman.deploy.instances.values()][0], 30_000, "the deploy's new instance");
    await fake.waitFor(() => fakeDeployments(fake.state).some((d) => d.statuses.at(-1)?.state === "in_progress"), 10_000, "the deployment in progress");
    child.kill("SIGKILL");
    await new Promise((r) => child!.once("exit", r));

    // Left half-booted by the dead deploy: it never passes (a healthy one would be adopted as is).
    Object.assign(hypeman.deploy.instances.get(orphan.id)!.health_status, { status: "unhealthy", last_error: "GET /: connection refused" });
    hypeman.deploy.faults.healthAfterReads = 2;
    const second = await startAppChild(env);
    child = second.child;
    const run = await fake.waitFor(() => {
      const main = fake.checkRuns("o", "r").find((r) => r.name === "microship");
      return main?.status === "completed" && fakeDeployments(fake.state).some((d) => d.statuses.at(-1)?.state === "success") && main;
    }, 60_000, "the resumed build and its deploy to finish");
    assert.equal(run.conclusion, "success");
    assert.match(run.output.text ?? "", /Resuming after an interruption/);
    const states = fakeDeployments(fake.state).map((d) => d.statuses.map((s) => s.state).join(">"));
    assert.deepEqual(states, ["queued>in_progress>error", "queued>in_progress>success"], "the interrupted deployment ended (GitHub's auto_inactive leaves it: it never succeeded, and this is production); the new one succeeded");
    assert.match(fakeDeployments(fake.state)[0]!.statuses.find((s) => s.state === "error")?.description ?? "", /Interrupted/);
    const left = [...hypeman.deploy.instances.values()];
    assert.equal(left.length, 1, "one instance serves production");
    assert.notEqual(left[0]!.id, orphan.id, "the half-started instance was removed, not left beside");
    assert.equal(left[0]!.health_status.status, "healthy");
    assert.ok(hypeman.requests.some((r) => r.method === "DELETE" && r.path === `/instances/${orphan.id}`));
    assert.deepEqual(fake.unknownCalls(), []);
    assert.deepEqual(fake.rejectedCalls().map((c) => `${c.method} ${c.path} ${c.status}`), []);
  } finally {
    child?.kill("SIGKILL");
    await fake.close();
    await hypeman.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
