import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, OWNER, REPO, type Harness } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer } from "../../helpers/pipeline-doubles.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { fakeDeployments } from "../../fakes/github/deployment-handlers.ts";
import { HypemanDeployer } from "../../../src/deploy/hypeman/hypeman-deployer.ts";
import { PREVIEW_MARKER } from "../../../src/github/reporter/preview-comment.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

let h: Harness;
let hypeman: HypemanFake;
// A digest per sha, so each push is a new image.
const digestOf = (tag: string) => `sha256:${tag.padEnd(64, "0").slice(0, 64)}`;
const CONFIG = "deploy:\n  health: /healthz\n  env: { LOG_LEVEL: info }\n  preview: { env: { DEMO: \"1\" } }\n";

before(async () => {
  const builder = new ScriptedBuilder(async (input) => ({ digest: digestOf(input.tags[0]!) }));
  hypeman = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest: digestOf("0") })), registry: "registry.test" });
  const deployer = new HypemanDeployer({ baseURL: hypeman.url, apiKey: hypeman.token(), domain: "preview.test", pollMs: 5, healthTimeoutMs: 5_000, imageTimeoutMs: 5_000 });
  h = await startHarness({ builder, planner: fixedPlanner(), archiver: emptyArchiver, images: namer, deployer });
});

after(async () => {
  await cleanupAll(
    () => assert.deepEqual(h.fake.unknownCalls(), [], "no call outside the OpenAPI subset"),
    () => assert.deepEqual(h.fake.rejectedCalls().map((c) => `${c.method} ${c.path} ${c.status}`), [], "no request rejected by validation"),
    () => assert.ok(!h.opLog().includes("ghs_"), "no installation token in the operator log"),
    () => h.stop(),
    () => hypeman.close(),
  );
});

const runsFor = (sha: string) => h.fake.checkRuns(OWNER, REPO).filter((r) => r.head_sha === sha);
const deploymentsOf = (environment: string) => fakeDeployments(h.fake.state).filter((d) => d.environment === environment);
const previewComments = (n: number) => h.fake.state.comments.filter((c) => c.issue_number === n && c.body.startsWith(PREVIEW_MARKER));
const lastState = (d: { statuses: { state: string }[] }) => d.statuses.at(-1)?.state;
const settled = (sha: string, environment: string) =>
  h.fake.waitFor(() => {
    const main = runsFor(sha).find((r) => r.name === "microship" && r.status === "completed");
    const deploy = runsFor(sha).find((r) => r.name === "microship/deploy" && r.status === "completed");
    const d = deploymentsOf(environment).find((x) => x.sha === sha && ["success", "failure", "error"].includes(lastState(x) ?? ""));
    return main && deploy && d && { main, deploy, deployment: d };
  }, 20_000, `the build and deploy of ${sha.slice(0, 8)}`);

async function openPr(number: number, branch: string, content: string, action: "opened" | "synchronize" = "opened") {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch, files: { ".github/microship.yml": CONFIG, "index.js": content } });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number, headSha: sha, headRef: branch });
  await h.send("pull_request", h.prPayload({ action, number, sha, headRef: branch }));
  return sha;
}

test("a pull request gets a deployment with queued, in_progress and success statuses, one sticky comment, and the URL in its check", async () => {
  const sha = await openPr(12, "pr-12", "1");
  const { main, deploy, deployment } = await settled(sha, "preview/pr-12");
  assert.equal(main.conclusion, "success");
  assert.equal(deploy.conclusion, "success");
  assert.deepEqual(deployment.statuses.map((s) => s.state), ["queued", "in_progress", "success"]);
  const url = deployment.statuses.at(-1)!.environment_url!;
  assert.match(url, /^http:\/\/shop-pr-12-[0-9a-f]{6}-[0-9a-f]{12}\.preview\.test$/);
  assert.match(deployment.statuses.at(-1)!.log_url!, /^http:\/\/microship\.test\//);
  assert.deepEqual(
    { ref: deployment.body.ref, auto_merge: deployment.body.auto_merge, required_contexts: deployment.body.required_contexts, transient: deployment.body.transient_environment, production: deployment.body.production_environment },
    { ref: sha, auto_merge: false, required_contexts: [], transient: true, production: false },
  );
  assert.ok(main.output.summary?.includes(`Deployed to **preview/pr-12**: ${url}`), main.output.summary ?? "");
  const comments = await h.fake.waitFor(() => previewComments(12).find((c) => c.body.includes(url)) && previewComments(12), 10_000, "the preview comment");
  assert.equal(comments.length, 1);
  const instance = [...hypeman.deploy.instances.values()].find((i) => url.includes(i.name));
  assert.equal(instance?.env.DEMO, "1");
});

test("a new push updates the same comment in place, and a deleted comment is made again", async () => {
  const [first] = previewComments(12);
  const sha = await openPr(12, "pr-12", "2", "synchronize");
  const { deployment } = await settled(sha, "preview/pr-12");
  const url = deployment.statuses.at(-1)!.environment_url!;
  await h.fake.waitFor(() => previewComments(12)[0]?.body.includes(url), 10_000, "the comment to show the new URL");
  assert.deepEqual(previewComments(12).map((c) => c.id), [first!.id], "edited, not added");
  assert.equal(hypeman.deploy.instances.size, 1, "the old instance went once the new one was healthy");
  h.fake.state.comments.splice(h.fake.state.comments.indexOf(previewComments(12)[0]!), 1);
  const again = await openPr(12, "pr-12", "3", "synchronize");
  const next = await settled(again, "preview/pr-12");
  const newUrl = next.deployment.statuses.at(-1)!.environment_url!;
  const made = await h.fake.waitFor(() => previewComments(12).find((c) => c.body.includes(newUrl)) && previewComments(12), 10_000, "the comment made again");
  assert.equal(made.length, 1);
  assert.notEqual(made[0]!.id, first!.id);
});

test("a deploy that fails its health check fails microship/deploy and the deployment, while the build stays green", async () => {
  const serving = [...hypeman.deploy.instances.keys()];
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "pr-12", files: { ".github/microship.yml": CONFIG, "index.js": "broken" } });
  hypeman.deploy.faults.unhealthy.add(`registry.test/${OWNER}/${REPO}@${digestOf(sha)}`);
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 12, headSha: sha, headRef: "pr-12" });
  await h.send("pull_request", h.prPayload({ action: "synchronize", number: 12, sha, headRef: "pr-12" }));
  const { main, deploy, deployment } = await settled(sha, "preview/pr-12");
  assert.equal(main.conclusion, "success");
  assert.equal(deploy.conclusion, "failure");
  assert.match(deploy.output.summary ?? "", /did not pass its health check/);
  assert.equal(lastState(deployment), "failure");
  assert.deepEqual([...hypeman.deploy.instances.keys()], serving, "the previous version keeps serving");
  await h.fake.waitFor(() => previewComments(12)[0]?.body.includes("Deploy failed"), 10_000, "the comment to say it failed");
});

test("closing the pull request removes the preview, marks its deployments inactive and says so in the comment", async () => {
  const sha = runsFor(h.fake.state.pulls.get(`${OWNER}/${REPO}#12`.toLowerCase())!.headSha)[0]!.head_sha;
  await h.send("pull_request", h.prPayload({ action: "closed", number: 12, sha, headRef: "pr-12" }));
  await h.fake.waitFor(() => hypeman.deploy.instances.size === 0, 10_000, "the preview's instances to go");
  await h.fake.waitFor(() => deploymentsOf("preview/pr-12").every((d) => lastState(d) === "inactive"), 10_000, "inactive deployments");
  const [comment] = await h.fake.waitFor(() => previewComments(12)[0]?.body.includes("removed") && previewComments(12), 10_000, "the comment to say removed");
  assert.doesNotMatch(comment!.body, /Ready/);
});

test("a push to the default branch deploys to production, not transient", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { ".github/microship.yml": CONFIG, "index.js": "main" } });
  await h.send("push", h.pushPayload({ sha, branch: "main" }));
  const { deployment } = await settled(sha, "production");
  assert.equal(deployment.body.production_environment, true);
  assert.equal(deployment.body.transient_environment, false);
  assert.equal(lastState(deployment), "success");
  assert.equal(h.fake.state.comments.filter((c) => c.body.startsWith(PREVIEW_MARKER) && c.issue_number !== 12).length, 0, "no comment outside a PR");
});
