import { test } from "node:test";
import assert from "node:assert/strict";
import { imagePath, imageTags, RegistryImageNamer, sanitizeComponent, sanitizeTag } from "../../../src/registry/image-name.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";
import type { BuildPlan } from "../../../src/core/types.ts";

// The distribution reference grammar (reference/regexp.go).
const TAG = /^[\w][\w.-]{0,127}$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$/;

test("ugly branch names become valid tags", () => {
  const cases: [string, string][] = [
    ["main", "main"],
    ["feature/Foo Bar", "feature-Foo-Bar"],
    ["fix/crème-brûlée", "fix-creme-brulee"],
    ["日本語", "branch"],
    ["feat/日本語-x", "feat-x"],
    [".hidden", "hidden"],
    ["-leading-dash", "leading-dash"],
    ["a..b", "a.b"],
    ["release/1.2..x", "release-1.2.x"],
    ["trailing.", "trailing"],
    ["", "branch"],
    ["///", "branch"],
    ["_under", "_under"],
    ["UPPER/Case", "UPPER-Case"],
    ["a" + "0".repeat(39), "branch-a" + "0".repeat(39)],
  ];
  for (const [raw, want] of cases) {
    const got = sanitizeTag(raw);
    assert.equal(got, want, raw);
    assert.match(got, TAG, raw);
  }
});

test("a tag is at most 128 characters and never ends on a separator", () => {
  const long = `feature/${"x".repeat(119)}.${"y".repeat(50)}`;
  const tag = sanitizeTag(long);
  assert.ok(tag.length <= 128);
  assert.match(tag, TAG);
  assert.doesNotMatch(tag, /[.-]$/);
  assert.equal(sanitizeTag("a".repeat(300)).length, 128);
});

test("a fallback is used when nothing is left", () => {
  assert.equal(sanitizeTag("🚀", "unnamed"), "unnamed");
});

test("repository components are lowercase and valid", () => {
  const cases: [string, string][] = [
    ["Octo-Org", "octo-org"],
    ["My.Repo", "my.repo"],
    ["repo__name", "repo__name"],
    // Distribution allows runs of '-': folding them would give a--b and a-b one namespace.
    ["a--b", "a--b"],
    ["repo-._name", "repo-name"],
    ["_private", "private"],
    ["Dots...", "dots"],
    ["ünïcode", "unicode"],
    ["日本", "app"],
  ];
  for (const [raw, want] of cases) {
    const got = sanitizeComponent(raw);
    assert.equal(got, want, raw);
    assert.match(got, COMPONENT, raw);
  }
});

test("image path: owner/repo[/app], and the config's suffix below it", () => {
  assert.equal(imagePath({ owner: "Octo", repo: "Mono", app: null }), "octo/mono");
  assert.equal(imagePath({ owner: "Octo", repo: "Mono", app: "web" }), "octo/mono/web");
  assert.equal(imagePath({ owner: "Octo", repo: "mono", app: "web", template: "api" }), "octo/mono/api");
  assert.equal(imagePath({ owner: "Octo", repo: "mono", app: "web", template: "team/{repo}-{app}" }), "octo/mono/team/mono-web");
  // A leading {owner}/{repo} is implied, so the old default template keeps its meaning.
  assert.equal(imagePath({ owner: "Octo", repo: "mono", app: "web", template: "{owner}/{repo}/{app}" }), "octo/mono/web");
  assert.equal(imagePath({ owner: "Octo", repo: "mono", app: null, template: "{owner}/{repo}/{app}" }), "octo/mono");
  assert.equal(imagePath({ owner: "Octo", repo: "mono", app: null, template: "{repo}-{app}" }), "octo/mono/mono");
  assert.equal(imagePath({ owner: "Octo", repo: "mono", app: null, template: "/ Weird Name //x/" }), "octo/mono/weird-name/x");
  // A host in it is just a path component under the repository's own namespace.
  assert.equal(imagePath({ owner: "o", repo: "r", app: null, template: "evil.example:5000/{repo}" }), "o/r/evil.example-5000/r");
  assert.equal(imagePath({ owner: "o", repo: "r", app: null, template: "///" }), "o/r");
  for (const p of [imagePath({ owner: "o", repo: "r", app: null, template: "a/".repeat(100) }), imagePath({ owner: "o", repo: "r", app: null, template: "x".repeat(300) })]) {
    assert.ok(p.startsWith("o/r/") && p.length <= 4 + 128, p);
    for (const c of p.split("/")) assert.match(c, COMPONENT);
  }
});

test("tags: the sha always; the branch for pushes; pr-N for pull requests", () => {
  const s = sha("a");
  assert.deepEqual(imageTags({ sha: s, trigger: "push", branch: "feature/Foo Bar", prNumber: null }), [s, "feature-Foo-Bar"]);
  assert.deepEqual(imageTags({ sha: s, trigger: "pull_request", branch: "feature", prNumber: 12 }), [s, "pr-12"]);
  assert.deepEqual(imageTags({ sha: s, trigger: "rebuild_comment", branch: "main", prNumber: null }), [s]);
  assert.deepEqual(imageTags({ sha: s, trigger: "push", branch: null, prNumber: null }), [s]);
});

test("the namer puts it together under the registry", () => {
  const namer = new RegistryImageNamer("127.0.0.1:5000/prefix/");
  const plan = { app: null, imageTemplate: null } as BuildPlan;
  const push = namer.target(buildRequest({ owner: "Octo", repo: "App", branch: "main", sha: sha("b") }), plan);
  assert.deepEqual(push, { imageName: "127.0.0.1:5000/prefix/octo/app", tags: [sha("b"), "main"] });
  const pr = namer.target(buildRequest({ trigger: "pull_request", pr: { number: 7, fork: true, headRepo: "x/y", headRef: "f", baseRef: "main" } }), { ...plan, app: "api" });
  assert.deepEqual(pr, { imageName: "127.0.0.1:5000/prefix/octo/app/api", tags: [sha("a"), "pr-7"] });
});
