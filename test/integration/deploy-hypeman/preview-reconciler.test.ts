import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, OWNER, REPO, INSTALLATION, type Harness } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer } from "../../helpers/pipeline-doubles.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { fakeDeployments } from "../../fakes/github/deployment-handlers.ts";
import { HypemanDeployer } from "../../../src/deploy/hypeman/hypeman-deployer.ts";
import type { DeployInput } from "../../../src/core/deployer.ts";
import type { DeployTarget } from "../../../src/core/deploy/deploy-target.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

let h: Harness;
let hypeman: HypemanFake;
let deployer: HypemanDeployer;
const DAY = 86_400_000;

before(async () => {
  hypeman = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest: `sha256:${"0".repeat(64)}` })), registry: "registry.test" });
  deployer = new HypemanDeployer({ baseURL: hypeman.url, apiKey: hypeman.token(), domain: "preview.test", pollMs: 5, healthTimeoutMs: 5_000, imageTimeoutMs: 5_000 });
  h = await startHarness({ builder: new ScriptedBuilder(async () => ({ digest: `sha256:${"0".repeat(64)}` })), planner: fixedPlanner(), archiver: emptyArchiver, images: namer, deployer });
  for (const repo of ["other", "third"]) h.fake.createRepo({ owner: OWNER, repo, installationId: INSTALLATION });
});

after(async () => {
  await cleanupAll(
    () => assert.deepEqual(h.fake.unknownCalls(), [], "no call outside the OpenAPI subset"),
    () => assert.deepEqual(h.fake.rejectedCalls().map((c) => `${c.method} ${c.path} ${c.status}`), [], "no request rejected by validation"),
    () => h.stop(),
    () => hypeman.close(),
  );
});

const preview = (n: number): DeployTarget => ({ kind: "preview", environment: `preview/pr-${n}`, slug: `pr-${n}`, transient: true, production: false });
const production: DeployTarget = { kind: "environment", environment: "production", slug: "production", transient: false, production: true };
let next = 1;

/** Starts an instance as a deploy of microship would (tags and all), without a build: the state the reconciler finds. */
async function running(repo: string, target: DeployTarget, expiresAt: Date | null): Promise<string> {
  const digest = `sha256:${String(next++).padStart(64, "0")}`;
  const input: DeployInput = {
    owner: OWNER, repo, app: null, target, installationId: INSTALLATION, sha: "f".repeat(40), expiresAt, idleMinutes: null,
    imageRef: `registry.test/${OWNER}/${repo}@${digest}`, digest, port: 3000, health: "/", env: { PORT: "3000" }, signal: AbortSignal.timeout(10_000), log: () => {},
  };
  return (await deployer.deploy(input)).instance;
}
function pr(repo: string, number: number, state: "open" | "closed") {
  const headSha = h.fake.commit({ owner: OWNER, repo, branch: `b${number}`, files: { "index.js": String(number) } });
  h.fake.setPullRequest({ owner: OWNER, repo, number, headSha, headRef: `b${number}`, state });
}
const names = () => new Set([...hypeman.deploy.instances.values()].map((i) => i.name as string));

test("a pass removes closed pull requests' and expired previews, keeps open ones and environments, and one repository's GitHub error stops only that repository", async () => {
  const reconciler = h.app.reconciler!;
  const soon = new Date(Date.now() + DAY), past = new Date(Date.now() - DAY);
  // Listed first, so its failure comes before the others' turn.
  pr("other", 5, "closed");
  const otherClosed = await running("other", preview(5), soon);
  pr(REPO, 1, "closed");
  const closed = await running(REPO, preview(1), soon);
  pr(REPO, 2, "open");
  const expired = await running(REPO, preview(2), past);
  pr(REPO, 3, "open");
  const open = await running(REPO, preview(3), soon);
  // An environment is never the reconciler's, whatever its tags say.
  const env = await running(REPO, production, past);
  pr("third", 6, "closed");
  const thirdClosed = await running("third", preview(6), soon);
  fakeDeployments(h.fake.state).push({
    id: 9_001, owner: OWNER, repo: REPO, sha: "f".repeat(40), ref: "f".repeat(40), environment: "preview/pr-1", transient: true, production: false,
    statuses: [{ state: "success", environment_url: null, log_url: null, description: null, created_at: new Date().toISOString() }], body: {},
  });
  h.fake.failNext({ operationId: "pulls/get", pathIncludes: `/repos/${OWNER}/other/`, status: 403, times: 100, message: "Resource not accessible by integration" });

  const report = await reconciler.runOnce();
  h.fake.clearFaults();
  assert.equal(report.ran, true);
  assert.deepEqual(report.removed.map((r) => `${r.repo} ${r.environment} ${r.reason}`).sort(), [`${REPO} preview/pr-1 closed`, `${REPO} preview/pr-2 expired`, "third preview/pr-6 closed"]);
  assert.deepEqual(report.failed, [`${OWNER}/other`]);
  const left = names();
  for (const gone of [closed, expired, thirdClosed]) assert.ok(!left.has(gone), `${gone} removed`);
  for (const kept of [open, env, otherClosed]) assert.ok(left.has(kept), `${kept} kept`);
  assert.equal(fakeDeployments(h.fake.state).find((d) => d.id === 9_001)?.statuses.at(-1)?.state, "inactive", "its GitHub deployment went inactive");
  assert.match(h.opLog(), /preview removed by the reconciler \(expired\)/);
  const asked = h.fake.calls.filter((c) => c.operationId === "pulls/get").map((c) => c.path);
  assert.ok(!asked.some((p) => p.endsWith("/pulls/2")), "an expired preview needs no GitHub read");

  const again = await reconciler.runOnce();
  assert.deepEqual(again.removed.map((r) => `${r.repo} ${r.environment}`), ["other preview/pr-5"], "the next pass gets the repository that failed");
  assert.deepEqual([...names()].sort(), [env, open].sort());
});

test("two passes asked at once are one pass", async () => {
  const reconciler = h.app.reconciler!;
  const [a, b] = [reconciler.runOnce(), reconciler.runOnce()];
  assert.equal(a, b);
  assert.equal((await a).ran, true);
});
