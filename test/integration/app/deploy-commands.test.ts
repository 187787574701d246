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
let builds = 0;
const digestOf = (tag: string) => `sha256:${tag.padEnd(64, "0").slice(0, 64)}`;
const SECRET = "s3cr3t-value-0123456789";
// The base branch's config: what /deploy and /rollback run with.
const BASE = "deploy:\n  env: { BASE_ONLY: \"1\" }\n  secrets: [API_KEY]\n  preview: { env: { DEMO: base } }\n";
// A fork's config that tries to opt itself into a preview with its own environment.
const FORK = "deploy:\n  env: { FROM_FORK: \"1\" }\n  secrets: [API_KEY]\n  preview: { forks: true, env: { DEMO: fork, FORK_PREVIEW: \"1\" } }\n";

before(async () => {
  const builder = new ScriptedBuilder(async (input) => {
    builds++;
    return { digest: digestOf(input.tags[0]!) };
  });
  hypeman = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest: digestOf("0") })), registry: "registry.test" });
  const deployer = new HypemanDeployer({ baseURL: hypeman.url, apiKey: hypeman.token(), domain: "preview.test", pollMs: 5, healthTimeoutMs: 5_000, imageTimeoutMs: 5_000 });
  const secrets = { secretsFor: async () => [{ id: "API_KEY", value: SECRET }] };
  h = await startHarness({ builder, planner: fixedPlanner(), archiver: emptyArchiver, images: namer, deployer, secrets });
  h.fake.setPermission(OWNER, REPO, "maintainer", "write");
  h.fake.setPermission(OWNER, REPO, "drive-by", "read");
  h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { ".github/microship.yml": BASE, "index.js": "main" } });
});

after(async () => {
  await cleanupAll(
    () => assert.deepEqual(h.fake.unknownCalls(), [], "no call outside the OpenAPI subset"),
    () => assert.deepEqual(h.fake.rejectedCalls().map((c) => `${c.method} ${c.path} ${c.status}`), [], "no request rejected by validation"),
    () => assert.ok(!h.opLog().includes(SECRET), "no secret in the operator log"),
    () => assert.ok(!JSON.stringify(h.fake.calls.map((c) => c.body)).includes(SECRET), "no secret sent to GitHub"),
    () => h.stop(),
    () => hypeman.close(),
  );
});

const runsFor = (sha: string) => h.fake.checkRuns(OWNER, REPO).filter((r) => r.head_sha === sha);
const deploymentsOf = (environment: string) => fakeDeployments(h.fake.state).filter((d) => d.environment === environment);
const lastState = (d: { statuses: { state: string }[] }) => d.statuses.at(-1)?.state;
const repliesTo = (n: number) => h.fake.state.comments.filter((c) => c.issue_number === n && !c.body.startsWith(PREVIEW_MARKER)).map((c) => c.body);
const instancesOf = (slug: string) => [...hypeman.deploy.instances.values()].filter((i) => String(i.name).includes(`-${slug}-`));
const finished = (d: { statuses: { state: string }[] }) => ["success", "failure", "error"].includes(lastState(d) ?? "");
const mainDone = (sha: string, count = 1) =>
  h.fake.waitFor(() => runsFor(sha).filter((r) => r.name === "microship" && r.status === "completed").length >= count && runsFor(sha), 20_000, `the build of ${sha.slice(0, 8)}`);
const reply = (n: number, pattern: RegExp) => h.fake.waitFor(() => repliesTo(n).find((b) => pattern.test(b)), 10_000, `a reply matching ${pattern}`);

async function openForkPr(number: number, content: string) {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: `fork-${number}`, files: { ".github/microship.yml": FORK, "index.js": content } });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number, headSha: sha, headRef: "patch-1", headRepo: `a-forker/${REPO}` });
  await h.send("pull_request", h.prPayload({ action: "opened", number, sha, headRef: "patch-1", fork: true }));
  return sha;
}

test("a fork's pull request gets no preview, even when its own config asks for one", async () => {
  const sha = await openForkPr(20, "fork 1");
  const [main] = await mainDone(sha);
  assert.equal(main!.conclusion, "success");
  assert.equal(deploymentsOf("preview/pr-20").length, 0);
  assert.equal(instancesOf("pr-20").length, 0);
});

test("/deploy from a reader is refused with a reply, and nothing is built or deployed", async () => {
  const before = builds;
  await h.send("issue_comment", h.commentPayload({ number: 20, body: "/deploy", user: "drive-by", commentId: 2001 }));
  assert.match(await reply(20, /needs write access/), /@drive-by/);
  assert.equal(builds, before);
  assert.equal(deploymentsOf("preview/pr-20").length, 0);
});

test("/deploy with a sha that is no longer the head, or with words it does not take, deploys nothing and says why", async () => {
  await h.send("issue_comment", h.commentPayload({ number: 20, body: "/deploy 0123456789abcdef", user: "maintainer", commentId: 2002 }));
  await reply(20, /head is now `[0-9a-f]{12}`, not `0123456789abcdef`/);
  await h.send("issue_comment", h.commentPayload({ number: 20, body: "/deploy to production please", user: "maintainer", commentId: 2003 }));
  await reply(20, /words it does not take.*`\/deploy <sha>`/s);
  assert.equal(deploymentsOf("preview/pr-20").length, 0);
});

test("a writer's /deploy deploys the fork's current sha with only the base config's preview.env: no deploy.env, no fork env, no secret", async () => {
  const sha = h.fake.state.pulls.get(`${OWNER}/${REPO}#20`.toLowerCase())!.headSha;
  await h.send("issue_comment", h.commentPayload({ number: 20, body: `LGTM, let's see it.\n/deploy ${sha.slice(0, 7)}`, user: "maintainer", commentId: 2004 }));
  const d = await h.fake.waitFor(() => deploymentsOf("preview/pr-20").find((x) => finished(x)), 20_000, "the fork's preview deployment");
  assert.equal(lastState(d), "success");
  assert.equal(d.sha, sha);
  await reply(20, new RegExp(`deploying \`${sha.slice(0, 12)}\``));
  const [instance] = instancesOf("pr-20");
  assert.ok(instance, "an instance runs the fork's preview");
  assert.equal(instance.image, `registry.test/${OWNER}/${REPO}@${digestOf(sha)}`);
  assert.deepEqual(Object.keys(instance.env).sort(), ["DEMO", "PORT"]);
  assert.equal(instance.env.DEMO, "base");
  assert.ok(!JSON.stringify(instance.env).includes(SECRET));
});

test("a newer push from the fork is not deployed without a new /deploy", async () => {
  const served = instancesOf("pr-20").map((i) => i.image);
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "fork-20", files: { ".github/microship.yml": FORK, "index.js": "fork 2" } });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 20, headSha: sha, headRef: "patch-1", headRepo: `a-forker/${REPO}` });
  await h.send("pull_request", h.prPayload({ action: "synchronize", number: 20, sha, headRef: "patch-1", fork: true }));
  await mainDone(sha);
  assert.ok(!deploymentsOf("preview/pr-20").some((d) => d.sha === sha));
  assert.deepEqual(instancesOf("pr-20").map((i) => i.image), served);
});

const first31 = () => h.fake.commit({ owner: OWNER, repo: REPO, branch: "pr-31", files: { "index.js": "31" } });

async function pushPr(number: number, content: string, action: "opened" | "synchronize") {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: `pr-${number}`, files: { ".github/microship.yml": BASE, "index.js": content } });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number, headSha: sha, headRef: `pr-${number}` });
  await h.send("pull_request", h.prPayload({ action, number, sha, headRef: `pr-${number}` }));
  await h.fake.waitFor(() => deploymentsOf(`preview/pr-${number}`).find((d) => d.sha === sha && lastState(d) === "success"), 20_000, `the deploy of ${sha.slice(0, 8)}`);
  return sha;
}

test("/rollback after two pushes goes back to the first image, with a new GitHub deployment and the comment updated; no rebuild", async () => {
  const first = await pushPr(30, "one", "opened");
  const second = await pushPr(30, "two", "synchronize");
  assert.equal(instancesOf("pr-30")[0]!.image, `registry.test/${OWNER}/${REPO}@${digestOf(second)}`);
  const before = builds;
  const count = deploymentsOf("preview/pr-30").length;
  await h.send("issue_comment", h.commentPayload({ number: 30, body: "/rollback", user: "maintainer", commentId: 3001 }));
  const d = await h.fake.waitFor(() => deploymentsOf("preview/pr-30").length > count && deploymentsOf("preview/pr-30").at(-1)!, 10_000, "the rollback's deployment");
  await h.fake.waitFor(() => finished(d), 20_000, "the rollback to finish");
  assert.equal(lastState(d), "success");
  assert.equal(d.sha, first);
  assert.equal((d.body.payload as { rollback?: boolean }).rollback, true);
  await h.fake.waitFor(() => instancesOf("pr-30").length === 1 && instancesOf("pr-30")[0]!.image.endsWith(digestOf(first)) && true, 10_000, "the first image to serve alone");
  assert.equal(instancesOf("pr-30")[0]!.env.API_KEY, SECRET, "a same-repo preview keeps its secrets");
  assert.equal(instancesOf("pr-30")[0]!.env.BASE_ONLY, "1");
  await reply(30, new RegExp(`back to \`${first.slice(0, 12)}\`: http://`));
  const comment = h.fake.state.comments.find((c) => c.issue_number === 30 && c.body.startsWith(PREVIEW_MARKER))!;
  assert.match(comment.body, new RegExp(`Ready: .*\\(\`${first.slice(0, 7)}\``));
  assert.equal(builds, before, "nothing was rebuilt");
});

test("/rollback with no earlier image replies so and deploys nothing", async () => {
  const count = deploymentsOf("preview/pr-30").length;
  await h.send("issue_comment", h.commentPayload({ number: 30, body: "/rollback", user: "maintainer", commentId: 3002 }));
  await reply(30, /nothing was rolled back: preview\/pr-30 has no earlier image/);
  assert.equal(deploymentsOf("preview/pr-30").length, count);
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 31, headSha: first31(), headRef: "pr-31" });
  await h.send("issue_comment", h.commentPayload({ number: 31, body: "/rollback", user: "maintainer", commentId: 3101 }));
  await reply(31, /nothing runs in preview\/pr-31 now/);
});

test("/rollback from a reader, or with an unknown environment word, is refused with a reply", async () => {
  await h.send("issue_comment", h.commentPayload({ number: 30, body: "/rollback", user: "drive-by", commentId: 3003 }));
  await reply(30, /@drive-by .*`\/rollback` needs write access/);
  await h.send("issue_comment", h.commentPayload({ number: 30, body: "/rollback Production!", user: "maintainer", commentId: 3004 }));
  await reply(30, /words it does not take.*`\/rollback production`/s);
});

test("on an issue, /rollback needs an environment, and /rollback production looks at production", async () => {
  const onIssue = (body: string, commentId: number) => {
    const p = h.commentPayload({ number: 50, body, user: "maintainer", commentId });
    delete p.issue.pull_request;
    return p;
  };
  await h.send("issue_comment", onIssue("/rollback", 5001));
  await reply(50, /needs the environment's name, e\.g\. `\/rollback production`/);
  await h.send("issue_comment", onIssue("/deploy", 5002));
  await reply(50, /`\/deploy` works on pull requests only/);
  await h.send("issue_comment", onIssue("/rollback production", 5003));
  await reply(50, /nothing was rolled back: nothing runs in production now/);
  assert.ok(h.fake.calls.some((c) => c.operationId === "repos/get-content" && c.query.ref === "main"), "the default branch's config was read");
});

test("/rollback runs the old image's own release command before traffic moves; when it fails, the version serving keeps serving", async () => {
  // Each push's config names its own command: the rollback must run the first image's, not today's.
  const withRelease = (command: string) => `${BASE}  release: ${command}\n`;
  const push = async (content: string, command: string, action: "opened" | "synchronize") => {
    const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "pr-40", files: { ".github/microship.yml": withRelease(command), "index.js": content } });
    h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 40, headSha: sha, headRef: "pr-40" });
    await h.send("pull_request", h.prPayload({ action, number: 40, sha, headRef: "pr-40" }));
    await h.fake.waitFor(() => deploymentsOf("preview/pr-40").find((d) => d.sha === sha && lastState(d) === "success"), 20_000, `the deploy of ${sha.slice(0, 8)}`);
    return sha;
  };
  const first = await push("one", "./migrate-v1", "opened");
  const second = await push("two", "./migrate-v2", "synchronize");
  const firstBuild = (await h.app.store.latestBuildForSha(OWNER, REPO, first, true))!;
  // A rollback that succeeds runs its release before the app's instance: the dashboard's Roll back test shows it.
  const rollback = async (commentId: number) => {
    const count = deploymentsOf("preview/pr-40").length, from = hypeman.deploy.created.length;
    await h.send("issue_comment", h.commentPayload({ number: 40, body: "/rollback", user: "maintainer", commentId }));
    const d = await h.fake.waitFor(() => deploymentsOf("preview/pr-40").length > count && deploymentsOf("preview/pr-40").at(-1)!, 10_000, "the rollback's deployment");
    await h.fake.waitFor(() => finished(d), 20_000, "the rollback to finish");
    return { d, created: hypeman.deploy.created.slice(from) };
  };

  hypeman.deploy.faults.commands.set("./migrate-v1", { exitCode: 3, output: ["error: v1 cannot read the v2 schema"] });
  const broken = await rollback(4001);
  assert.equal(lastState(broken.d), "failure");
  assert.deepEqual(broken.created.map((c) => [c.cmd, c.image]), [[["./migrate-v1"], `registry.test/${OWNER}/${REPO}@${digestOf(first)}`]], "only the release's one-off instance started");
  assert.equal(instancesOf("pr-40").length, 1);
  assert.ok(instancesOf("pr-40")[0]!.image.endsWith(digestOf(second)), "the second version keeps serving");
  const log = async () => (await h.app.store.readLog(firstBuild.id)).map((l) => l.text).join("\n");
  assert.match(await log(), /--- Rollback: this build's image to preview\/pr-40, .*---[\s\S]*release \| error: v1 cannot read the v2 schema[\s\S]*failed with exit code 3/, "the release's output is in the log the status links to");
  assert.match(broken.d.statuses.at(-1)!.log_url ?? "", new RegExp(firstBuild.id));
});
