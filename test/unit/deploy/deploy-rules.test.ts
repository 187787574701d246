import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRepoConfig } from "../../../src/core/repo-config.ts";
import { deployEnv, deployTargetFor } from "../../../src/core/deploy/deploy-target.ts";
import { instanceName, isValidName, slugify } from "../../../src/core/deploy/instance-name.ts";
import { buildRequest } from "../../helpers/build-requests.ts";

const pr = (number: number, fork = false) => ({ number, fork, headRepo: fork ? "someone/app" : "octo/app", headRef: "feat", baseRef: "main" });
const config = (yaml: string) => {
  const r = parseRepoConfig(yaml);
  if (!r.ok) throw new Error(r.error.message);
  return r.config.deploy;
};

test("the deploy block of the issue parses, and its mistakes are named with their line", () => {
  const deploy = config(`deploy:
  port: 3000
  health: /healthz
  env: { LOG_LEVEL: info }
  secrets: [DATABASE_URL]
  environments:
    production: { branch: main }
    staging: { branch: develop }
  preview: { enabled: true, idle_minutes: 60, ttl_days: 7, env: { DEMO: "1" } }
  release: "npm run migrate"
`);
  assert.equal(deploy?.environments?.staging?.branch, "develop");
  assert.equal(deploy?.preview?.env?.DEMO, "1");
  const bad = (yaml: string) => {
    const r = parseRepoConfig(yaml);
    assert.equal(r.ok, false, yaml);
    return r.ok ? "" : r.error.message;
  };
  assert.match(bad("deploy:\n  port: 70000\n"), /:2:\d+: `deploy.port`/);
  assert.match(bad("deploy:\n  health: healthz\n"), /`deploy.health`: an HTTP path/);
  assert.match(bad("deploy:\n  health: \"/a b\"\n"), /`deploy.health`/);
  assert.match(bad("deploy:\n  environments:\n    Prod/../x: { branch: main }\n"), /deploy.environments/);
  assert.match(bad("deploy:\n  secrets: [\"1BAD\"]\n"), /deploy.secrets/);
  assert.match(bad("deploy:\n  surprise: 1\n"), /:2:3: `deploy`/);
  assert.match(bad("builds:\n  - name: api\n    deploy: {}\n"), /builds/, "deploy is for the whole repo, not one app");
});

test("by default the default branch deploys to production and other branches do not deploy", () => {
  const main = deployTargetFor(buildRequest({ branch: "main" }), undefined);
  assert.deepEqual(main, { deploy: true, target: { kind: "environment", environment: "production", slug: "production", transient: false, production: true } });
  const feature = deployTargetFor(buildRequest({ branch: "feature" }), undefined);
  assert.equal(feature.deploy, false);
  assert.equal(deployTargetFor(buildRequest({ branch: null }), undefined).deploy, false);
});

test("environments replace the default: each deploys from its branch, and only production is production", () => {
  const deploy = config("deploy:\n  environments:\n    staging: { branch: develop }\n    production: { branch: release }\n");
  const staging = deployTargetFor(buildRequest({ branch: "develop" }), deploy);
  assert.ok(staging.deploy && staging.target.environment === "staging" && !staging.target.production && !staging.target.transient);
  const prod = deployTargetFor(buildRequest({ branch: "release" }), deploy);
  assert.ok(prod.deploy && prod.target.production);
  assert.equal(deployTargetFor(buildRequest({ branch: "main" }), deploy).deploy, false, "main is no longer production");
});

test("two environments of one branch always pick the same one", () => {
  const a = config("deploy:\n  environments:\n    zeta: { branch: main }\n    alpha: { branch: main }\n");
  const b = config("deploy:\n  environments:\n    alpha: { branch: main }\n    zeta: { branch: main }\n");
  const pick = (d: typeof a) => {
    const r = deployTargetFor(buildRequest({ branch: "main" }), d);
    return r.deploy ? r.target.environment : null;
  };
  assert.equal(pick(a), "alpha");
  assert.equal(pick(b), "alpha");
});

test("pull requests get a transient preview; forks only with a writer's /deploy, and previews can be turned off", () => {
  const own = deployTargetFor(buildRequest({ trigger: "pull_request", pr: pr(7) }), undefined);
  assert.deepEqual(own, { deploy: true, target: { kind: "preview", environment: "preview/pr-7", slug: "pr-7", transient: true, production: false } });
  const fork = deployTargetFor(buildRequest({ trigger: "pull_request", pr: pr(8, true) }), undefined);
  assert.equal(fork.deploy, false);
  assert.match(fork.deploy ? "" : fork.reason, /forks/);
  // A fork's own config can't opt it in: its config comes from the fork's branch.
  assert.equal(deployTargetFor(buildRequest({ pr: pr(8, true) }), config("deploy:\n  preview: { forks: true }\n")).deploy, false);
  assert.equal(deployTargetFor(buildRequest({ pr: pr(8, true), forkDeploy: { by: "maintainer", deploy: {} } }), undefined).deploy, true);
  assert.equal(deployTargetFor(buildRequest({ pr: pr(9) }), config("deploy:\n  preview: { enabled: false }\n")).deploy, false);
});

test("an instance's environment: deploy.env, a preview's own on top, and PORT last so nothing overrides it", () => {
  const deploy = config("deploy:\n  env: { A: a, B: b, PORT: '1' }\n  preview: { env: { B: preview } }\n");
  const preview = deployTargetFor(buildRequest({ pr: pr(1) }), deploy);
  const prod = deployTargetFor(buildRequest({ branch: "main" }), deploy);
  assert.ok(preview.deploy && prod.deploy);
  assert.deepEqual(deployEnv(deploy, preview.target, 8080), { A: "a", B: "preview", PORT: "8080" });
  assert.deepEqual(deployEnv(deploy, prod.target, 3000), { A: "a", B: "b", PORT: "3000" });
});

test("instance names keep Hypeman's rule and length whatever the repo is called, and never collide across owners", () => {
  const name = instanceName({ owner: "octo", repo: "app", app: "web", slug: "pr-12", generation: "abc1234" });
  assert.match(name, /^web-app-pr-12-[0-9a-f]{6}-abc1234$/);
  const hostile = ["A".repeat(500), "--x--", "ÜNÏCØDE repo", "-", "", "a_b.c", "x".repeat(40) + "-".repeat(40) + "y"];
  for (const repo of hostile) {
    for (const app of [null, "api", "z".repeat(39)]) {
      const n = instanceName({ owner: "o", repo, app, slug: "production", generation: "sha256:ff" });
      assert.ok(isValidName(n), `${JSON.stringify(n)} from ${JSON.stringify(repo)}`);
    }
  }
  const a = instanceName({ owner: "alice", repo: "site", app: null, slug: "production", generation: "1" });
  const b = instanceName({ owner: "bob", repo: "site", app: null, slug: "production", generation: "1" });
  assert.notEqual(a, b);
  const long = (owner: string) => instanceName({ owner, repo: "r".repeat(80), app: null, slug: "pr-1", generation: "1" });
  assert.notEqual(long("alice"), long("bob"), "cut to length, still apart");
});

test("the name check is Hypeman's rule, in linear time on hostile input", () => {
  for (const ok of ["a", "a-b", "0", "a".repeat(63)]) assert.ok(isValidName(ok), ok);
  for (const bad of ["", "-a", "a-", "A", "a_b", "a.b", "a".repeat(64)]) assert.ok(!isValidName(bad), bad);
  assert.equal(slugify("--Hello__World--"), "hello-world");
  const huge = "a-".repeat(500_000) + "!";
  assert.equal(isValidName(huge), false);
  assert.equal(slugify(huge).length <= 1024, true, "slugify reads a bounded prefix");
});
