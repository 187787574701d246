import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RepoConfigSource } from "../../src/github/repo-config-source.ts";
import type { GitHubRequester } from "../../src/github/reporter/check-run-reporter.ts";
import { buildRequest } from "../helpers/build-requests.ts";

/**
 * Hole 9: `_extends` from a fork PR pulled another (private) repository's config, its build_args
 * (a token) and env, into the fork's build. A fork PR's config no longer extends anything, and
 * no build extends a repository of another owner.
 */

const PRIVATE = "build_args:\n  NPM_TOKEN: private-token-3a9e\nenv:\n  SECRET_ENV: private-env-3a9e\n";

function checkout(t: { after(fn: () => void): void }, config: string): string {
  const d = mkdtempSync(join(tmpdir(), "ms-sec-ext-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  mkdirSync(join(d, ".github"));
  writeFileSync(join(d, ".github", "microship.yml"), config);
  return d;
}

/** GitHub's contents API as far as the config source uses it; it remembers what was asked. */
function github(): GitHubRequester & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async request(_route, params) {
      asked.push(`${params?.owner}/${params?.repo}`);
      return { data: { content: Buffer.from(PRIVATE).toString("base64") } };
    },
  };
}

const fork = { number: 7, fork: true, headRepo: "a-forker/shop", headRef: "patch", baseRef: "main" };

const cases: Array<[string, string, boolean, RegExp]> = [
  ["a fork PR extending a private repo of the same owner", "_extends: octo-org/private-config\n", true, /not followed for pull requests from forks/],
  ["a fork PR extending the owner's .github by short name", "_extends: .github\n", true, /not followed for pull requests from forks/],
  ["a push extending a repo of another owner", "_extends: other-org/private-config\n", false, /another owner/],
  ["a push extending a name that is not owner/repo", "_extends: octo-org/a/b\n", false, /not `repo` or `owner\/repo`/],
  ["a push extending ..", "_extends: octo-org/..\n", false, /not `repo` or `owner\/repo`/],
];

for (const [name, config, isFork, why] of cases) {
  test(`refused: ${name}, without asking GitHub for the other file`, async (t) => {
    const gh = github();
    const source = new RepoConfigSource(async () => gh);
    const request = buildRequest({ owner: "octo-org", repo: "shop", pr: isFork ? fork : null });
    const r = await source.load(request, checkout(t, `${config}runtime: node\n`));
    assert.ok(r && !r.ok, "refused");
    assert.equal(r.error.kind, "user");
    assert.match(r.error.message, why);
    assert.equal(r.error.location?.file, ".github/microship.yml");
    assert.equal(r.error.location?.line, 1);
    assert.deepEqual(gh.asked, [], "no other repository's config was fetched");
    assert.doesNotMatch(JSON.stringify(r), /private-token|private-env/);
  });
}

test("a push may extend a repo of its own owner, as before (owner compared without case)", async (t) => {
  const gh = github();
  const source = new RepoConfigSource(async () => gh);
  const r = await source.load(buildRequest({ owner: "octo-org", repo: "shop", pr: null }), checkout(t, "_extends: Octo-Org/.github\nruntime: node\n"));
  assert.ok(r?.ok, JSON.stringify(r));
  assert.deepEqual(gh.asked, ["Octo-Org/.github"]);
  assert.equal(r.config.build_args?.NPM_TOKEN, "private-token-3a9e");
});

test("a same-repo PR (not a fork) extends like a push", async (t) => {
  const gh = github();
  const source = new RepoConfigSource(async () => gh);
  const r = await source.load(buildRequest({ owner: "octo-org", repo: "shop", pr: { ...fork, fork: false, headRepo: "octo-org/shop" } }), checkout(t, "_extends: .github\n"));
  assert.ok(r?.ok);
  assert.deepEqual(gh.asked, ["octo-org/.github"]);
});
