/**
 * From 16: a re-run (check suite or check run) of a fork sha the store had forgotten was built
 * as trusted. Trust now comes from GitHub's PR data, never from the absence of a record.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { startHarness, OWNER, REPO, INSTALLATION, type Harness } from "../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner } from "../helpers/pipeline-doubles.ts";
import { RegistryImageNamer } from "../../src/registry/image-name.ts";
import { loadExample, withRepo } from "../fakes/webhooks.ts";
import type { BuildInput } from "../../src/core/builder.ts";
import { cleanupAll } from "../helpers/cleanup.ts";

let h: Harness;
const inputs: BuildInput[] = [];

before(async () => {
  const builder = new ScriptedBuilder(async (input) => {
    inputs.push(input);
    return { digest: `sha256:${"e".repeat(64)}` };
  });
  h = await startHarness({ builder, planner: fixedPlanner(), archiver: emptyArchiver, images: new RegistryImageNamer("registry.test") });
});

after(async () => {
  await cleanupAll(
    () => assert.deepEqual(h.fake.unknownCalls(), [], "no call outside the OpenAPI subset"),
    () => assert.deepEqual(h.fake.rejectedCalls().map((c) => `${c.method} ${c.path}`), [], "no request rejected by validation"),
    () => h.stop(),
  );
});

const runsFor = (s: string) => h.fake.checkRuns(OWNER, REPO).filter((r) => r.head_sha === s);
const built = (s: string) => h.fake.waitFor(() => runsFor(s).find((r) => r.status === "completed") && inputs.find((i) => i.tags[0] === s), 20_000, `a build of ${s.slice(0, 8)}`);

/** A commit that exists only as a fork PR's head (pull/N/head), as GitHub keeps it in the base repo. */
function forkCommit(number: number, headRepo: string | null = `a-forker/${REPO}`): string {
  const s = h.fake.commit({ owner: OWNER, repo: REPO, branch: `refs/forks/pr-${number}`, files: { "a.txt": `fork ${number}` } });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number, headSha: s, headRef: "patch", headRepo });
  return s;
}

function suiteRerequested(s: string, headBranch: string | null): Record<string, any> {
  const p = withRepo(loadExample("check_suite", (e) => e.action === "rerequested"), { owner: OWNER, repo: REPO, installationId: INSTALLATION });
  p.check_suite.head_sha = s;
  p.check_suite.head_branch = headBranch;
  p.check_suite.pull_requests = [];
  return p;
}

function runRerequested(s: string, externalId: string, headBranch: string | null): Record<string, any> {
  const p = withRepo(loadExample("check_run", (e) => e.action === "rerequested"), { owner: OWNER, repo: REPO, installationId: INSTALLATION });
  p.check_run.head_sha = s;
  p.check_run.external_id = externalId;
  if (p.check_run.check_suite) p.check_run.check_suite.head_branch = headBranch;
  return p;
}

function assertUntrusted(input: BuildInput, number: number): void {
  assert.equal(input.cacheScope, `${OWNER}/${REPO}/pr-${number}`, "the fork's own cache scope");
  assert.deepEqual(input.secrets, []);
  assert.ok(input.tags.includes(`pr-${number}`) && input.tags.length === 2, `tags: ${input.tags.join(", ")}`);
}

test("check_suite.rerequested of a forgotten fork head is built as that fork PR", async () => {
  const s = forkCommit(51);
  assert.equal((await h.send("check_suite", suiteRerequested(s, null))).status, 200);
  assertUntrusted(await built(s), 51);
  assert.equal((await h.app.store.latestBuildForSha(OWNER, REPO, s, false))?.request.fetchRef, "refs/pull/51/head");
  assert.equal(await h.app.store.latestBuildForSha(OWNER, REPO, s, true), null, "no trusted build of a fork sha");
});

test("a head_branch on the suite does not make a fork head trusted (the fork's branch name says nothing)", async () => {
  const s = forkCommit(52);
  await h.send("check_suite", suiteRerequested(s, "main"));
  assertUntrusted(await built(s), 52);
});

test("check_run.rerequested naming a build the store does not know is built as the fork PR", async () => {
  const s = forkCommit(53);
  await h.send("check_run", runRerequested(s, randomUUID(), null));
  assertUntrusted(await built(s), 53);
});

test("a fork that was deleted (no head repo) is still a fork", async () => {
  const s = forkCommit(54, null);
  await h.send("check_suite", suiteRerequested(s, null));
  assertUntrusted(await built(s), 54);
});

test("no PR and no branch: the origin can't be told, so nothing is built", async () => {
  const s = h.fake.commit({ owner: OWNER, repo: REPO, branch: "refs/forks/orphan", files: { "a.txt": "orphan" } });
  await h.send("check_suite", suiteRerequested(s, null));
  await h.send("check_run", runRerequested(s, "", null));
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(inputs.filter((i) => i.tags[0] === s).length, 0);
  assert.equal(runsFor(s).length, 0);
});

test("GitHub failing to answer which PRs hold the sha builds nothing, rather than guessing trusted", async () => {
  const s = forkCommit(55);
  h.fake.failNext({ operationId: "repos/list-pull-requests-associated-with-commit", status: 500, times: 20 });
  await h.send("check_suite", suiteRerequested(s, "main"));
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(inputs.filter((i) => i.tags[0] === s).length, 0);
  assert.equal(await h.app.store.latestBuildForSha(OWNER, REPO, s, true), null);
  assert.ok(h.fake.calls.some((c) => c.operationId === "repos/list-pull-requests-associated-with-commit" && c.status === 500), "GitHub was asked");
  h.fake.clearFaults();
});

test("a sha with no PR on a branch of the base repo is rebuilt as that branch (trusted)", async () => {
  const s = h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { "a.txt": "main re-run" } });
  await h.send("check_suite", suiteRerequested(s, "main"));
  const input = await built(s);
  assert.equal(input.cacheScope, `${OWNER}/${REPO}`);
});

test("a same-repository PR head is rebuilt as that PR (trusted)", async () => {
  const s = h.fake.commit({ owner: OWNER, repo: REPO, branch: "feature-x", files: { "a.txt": "same repo" } });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 56, headSha: s, headRef: "feature-x" });
  await h.send("check_suite", suiteRerequested(s, "feature-x"));
  const input = await built(s);
  assert.equal(input.cacheScope, `${OWNER}/${REPO}`);
  assert.ok(input.tags.includes("pr-56"));
});

test("a check run whose external_id names a trusted build of another sha does not lend it that build's trust", async () => {
  const trusted = h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { "a.txt": "trusted donor" } });
  await h.send("push", h.pushPayload({ sha: trusted, branch: "main" }));
  await built(trusted);
  const donor = await h.app.store.latestBuildForSha(OWNER, REPO, trusted, true);
  assert.ok(donor);
  const s = forkCommit(57);
  await h.send("check_run", runRerequested(s, donor.id, "main"));
  assertUntrusted(await built(s), 57);
  assert.equal(inputs.filter((i) => i.tags[0] === trusted).length, 1, "the donor was not rebuilt");
});
