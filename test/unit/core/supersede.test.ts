import { test } from "node:test";
import assert from "node:assert/strict";
import { closedPullRequestStops, isDefaultBranchBuild, supersedes } from "../../../src/core/supersede.ts";
import type { BuildRecord } from "../../../src/core/build.ts";
import type { BuildRequest } from "../../../src/core/types.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";

// The rule itself; test/helpers/store-queue-contract.ts checks that each Store applies it.

const pr = (number: number, fork = false) => ({ number, fork, headRepo: fork ? "fork/app" : "octo/app", headRef: "feature", baseRef: "main" });

function build(over: Partial<BuildRequest>, state: BuildRecord["state"] = "queued", id = "old"): BuildRecord {
  return {
    id, request: buildRequest(over), attempt: 0, state, conclusion: null, checkRunId: null, createdAt: 0, startedAt: null, completedAt: null,
    cancelRequested: false, supersededBy: null, tries: 0, leaseOwner: null, leaseExpiresAt: null, outcome: null,
  };
}

const candidate = (over: Partial<BuildRequest>, state: BuildRecord["state"] = "queued", defaultBranch = false) => ({ build: build(over, state), defaultBranch });
const push = (over: Partial<BuildRequest> = {}) => buildRequest({ sha: sha("2"), ...over });

test("a push supersedes unfinished builds of its branch and repository, of another sha", () => {
  assert.equal(supersedes(push(), "new", candidate({ sha: sha("1") })), true);
  assert.equal(supersedes(push(), "new", candidate({ sha: sha("1") }, "running")), true);
  assert.equal(supersedes(push(), "new", candidate({ sha: sha("1") }, "completed")), false);
  assert.equal(supersedes(push(), "new", candidate({ sha: sha("2") })), false, "the same sha (a re-run's older attempt)");
  assert.equal(supersedes(push(), "old", candidate({ sha: sha("1") })), false, "itself");
  assert.equal(supersedes(push(), "new", candidate({ sha: sha("1"), branch: "other" })), false);
  assert.equal(supersedes(push(), "new", candidate({ sha: sha("1"), repo: "other" })), false);
  assert.equal(supersedes(push(), "new", candidate({ sha: sha("1"), owner: "other" })), false);
});

test("default-branch builds neither supersede nor are superseded; the flag is the one recorded at creation", () => {
  assert.equal(isDefaultBranchBuild(buildRequest({ branch: "main" })), true);
  assert.equal(isDefaultBranchBuild(buildRequest({ branch: "main", pr: pr(1) })), false);
  assert.equal(supersedes(push({ branch: "main" }), "new", candidate({ sha: sha("1"), branch: "main" })), false);
  const renamed = push({ branch: "main", defaultBranch: "trunk" });
  assert.equal(supersedes(renamed, "new", candidate({ sha: sha("1"), branch: "main", pr: pr(5) }, "queued", true)), false, "a PR attached later changes nothing");
  assert.equal(supersedes(renamed, "new", candidate({ sha: sha("1"), branch: "main" }, "queued", false)), true);
});

test("forks: a push never supersedes a fork PR's build; a fork PR supersedes only its own PR's", () => {
  assert.equal(supersedes(push(), "new", candidate({ sha: sha("1"), pr: pr(9, true) })), false);
  assert.equal(supersedes(push(), "new", candidate({ sha: sha("1"), pr: pr(7) })), true, "a same-repo PR's build of the branch");
  const fork = push({ branch: null, pr: pr(9, true) });
  assert.equal(supersedes(fork, "new", candidate({ sha: sha("1") })), false);
  assert.equal(supersedes(fork, "new", candidate({ sha: sha("1"), branch: null, pr: pr(9, true) })), true);
  assert.equal(supersedes(fork, "new", candidate({ sha: sha("1"), branch: null, pr: pr(8, true) })), false);
});

test("a PR supersedes its own builds whatever their branch; a request with neither branch nor PR supersedes nothing", () => {
  assert.equal(supersedes(push({ pr: pr(7), branch: "y" }), "new", candidate({ sha: sha("1"), branch: "x", pr: pr(7) })), true);
  assert.equal(supersedes(push({ pr: pr(7) }), "new", candidate({ sha: sha("1"), branch: "main" }, "queued", true)), false, "no PR: not the PR's");
  assert.equal(supersedes(push({ branch: null }), "new", candidate({ sha: sha("1"), branch: null })), false);
});

test("closing a PR stops its builds, except a same-repo push build it shared", () => {
  assert.equal(closedPullRequestStops(build({ trigger: "pull_request", pr: pr(3) })), true);
  assert.equal(closedPullRequestStops(build({ trigger: "push", pr: pr(3) })), false);
  assert.equal(closedPullRequestStops(build({ trigger: "push", branch: null, pr: pr(3) })), true);
  assert.equal(closedPullRequestStops(build({ trigger: "push", pr: pr(3, true) })), true);
  assert.equal(closedPullRequestStops(build({ trigger: "check_run_rerequested", pr: pr(3) })), true);
});
