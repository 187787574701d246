import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startHarness, OWNER, REPO, INSTALLATION, type Harness } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer } from "../../helpers/pipeline-doubles.ts";
import { loadExample, withRepo } from "../../fakes/webhooks.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";
import type { BuildInput } from "../../../src/core/builder.ts";
import type { DeployInput, Deployer } from "../../../src/core/deployer.ts";
import { loadEnv } from "../../../src/config/env.ts";
import { repoSecrets } from "../../../src/secrets-parts.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteSecretRows } from "../../../src/store/sqlite/sqlite-secret-rows.ts";

// Secrets set in microship's own store (no override: the server's default SecretSource), as the CLI sets them.
const SHOP_KEY = "shop-api-key-9f8e7d6c5b4a";
const OTHER_KEY = "other-repo-key-1a2b3c4d5e";
const OTHER = "ledger";
const CONFIG = "deploy:\n  health: /healthz\n  secrets: [API_KEY, NOT_SET]\n";

let h: Harness;
const idOf = (repo: string) => h.fake.state.repo(OWNER, repo)!.id;
let side: SqliteDatabase;
const builds: BuildInput[] = [];
const deploys: DeployInput[] = [];

/** Runs nothing: records what a deploy was given and prints its secret, as a careless app would. */
const deployer: Deployer = {
  name: "recording",
  describe: () => "a recording test deployer",
  async deploy(input) {
    deploys.push(input);
    input.log(`app started with API_KEY=${input.env.API_KEY ?? "(none)"}`);
    return { url: `http://${input.target.slug}.preview.test`, instance: `i-${deploys.length}`, replaced: [] };
  },
  list: async () => [],
  teardown: async () => 0,
};

before(async () => {
  const builder = new ScriptedBuilder(async (input, log) => {
    builds.push(input);
    for (const s of input.secrets) log(`echo $${s.id}: ${s.value}`);
    return { digest: `sha256:${input.tags[0]!.padEnd(64, "0").slice(0, 64)}` };
  });
  h = await startHarness({ builder, planner: fixedPlanner(), archiver: emptyArchiver, images: namer, deployer });
  h.fake.createRepo({ owner: OWNER, repo: OTHER, installationId: INSTALLATION });
  h.fake.setPermission(OWNER, REPO, "maintainer", "write");
  side = new SqliteDatabase(join(h.dataDir, "microship.sqlite"));
  const store = repoSecrets(loadEnv({ MICROSHIP_DATA_DIR: h.dataDir }), h.dataDir, new SqliteSecretRows(side));
  await store.set({ id: idOf(REPO), owner: OWNER, repo: REPO }, "API_KEY", SHOP_KEY, "test");
  await store.set({ id: idOf(OTHER), owner: OWNER, repo: OTHER }, "LEDGER_KEY", OTHER_KEY, "test");
});

after(async () => {
  await cleanupAll(
    () => assert.deepEqual(h.fake.unknownCalls(), [], "no call outside the OpenAPI subset"),
    () => assert.deepEqual(h.fake.rejectedCalls().map((c) => `${c.method} ${c.path} ${c.status}`), [], "no request rejected by validation"),
    () => assert.ok(![SHOP_KEY, OTHER_KEY].some((s) => h.opLog().includes(s)), "no secret in the operator log"),
    () => assert.ok(![SHOP_KEY, OTHER_KEY].some((s) => JSON.stringify(h.fake.calls.map((c) => c.body)).includes(s)), "no secret sent to GitHub"),
    async () => side.close(),
    () => h.stop(),
  );
});

const runs = (repo: string, sha: string) => h.fake.checkRuns(OWNER, repo).filter((r) => r.head_sha === sha);
const settled = (repo: string, sha: string) =>
  h.fake.waitFor(() => {
    const main = runs(repo, sha).find((r) => r.name === "microship" && r.status === "completed");
    const deploy = runs(repo, sha).find((r) => r.name === "microship/deploy" && r.status === "completed");
    return main && deploy && { main, deploy };
  }, 20_000, `the build and deploy of ${sha.slice(0, 8)}`);
const rawLog = async (detailsUrl: string) => (await fetch(detailsUrl.replace("http://microship.test", h.app.url).replace("?", "/log.txt?"))).text();

test("a push gets its repository's secret in the build and the deploy's env; masked in the log and the checks; a name not set is said", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { ".github/microship.yml": CONFIG, "index.js": "1" } });
  await h.send("push", h.pushPayload({ sha, branch: "main" }));
  const { main, deploy } = await settled(REPO, sha);
  assert.equal(main.conclusion, "success");
  assert.equal(deploy.conclusion, "success");
  assert.deepEqual(builds.find((b) => b.tags[0] === sha)!.secrets, [{ id: "API_KEY", value: SHOP_KEY }], "only shop's secret, not ledger's");
  const input = deploys.find((d) => d.sha === sha)!;
  assert.equal(input.env.API_KEY, SHOP_KEY);
  assert.ok(!("LEDGER_KEY" in input.env) && !("NOT_SET" in input.env));
  const log = await rawLog(main.details_url!);
  assert.match(log, /echo \$API_KEY: \[REDACTED\]/);
  assert.match(log, /app started with API_KEY=\[REDACTED\]/);
  assert.match(log, /Secrets not set for octo-org\/shop: NOT_SET\. Set them with `npm run secrets -- set octo-org\/shop NAME`/);
  assert.match(deploy.output.summary ?? "", /Secrets not set for octo-org\/shop: NOT_SET/);
  assert.match(main.output.summary ?? "", /Secrets not set for octo-org\/shop: NOT_SET/);
  const everything = [JSON.stringify(main.history), JSON.stringify(deploy.history), log].join("\n");
  assert.ok(!everything.includes(SHOP_KEY), "the secret leaked into a check run or the log");
});

test("another repository's build never sees this one's secrets: it gets its own, and a name it lacks is said", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: OTHER, branch: "main", files: { ".github/microship.yml": "deploy:\n  secrets: [API_KEY]\n", "index.js": "2" } });
  const push = withRepo(loadExample("push", (e) => e.ref?.startsWith("refs/heads/") && !e.deleted), { owner: OWNER, repo: OTHER, installationId: INSTALLATION, repositoryId: idOf(OTHER) });
  Object.assign(push, { ref: "refs/heads/main", after: sha, deleted: false });
  await h.send("push", push);
  const { main } = await settled(OTHER, sha);
  assert.deepEqual(builds.find((b) => b.tags[0] === sha)!.secrets, [{ id: "LEDGER_KEY", value: OTHER_KEY }]);
  assert.deepEqual(Object.keys(deploys.find((d) => d.sha === sha)!.env).filter((k) => k !== "PORT"), []);
  assert.match(await rawLog(main.details_url!), /Secrets not set for octo-org\/ledger: API_KEY\./);
});

test("a fork's pull request builds without secrets, and its /deploy preview gets none", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "fork-7", files: { ".github/microship.yml": CONFIG, "index.js": "fork" } });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 7, headSha: sha, headRef: "patch-1", headRepo: `a-forker/${REPO}` });
  await h.send("pull_request", h.prPayload({ action: "opened", number: 7, sha, headRef: "patch-1", fork: true }));
  await h.fake.waitFor(() => runs(REPO, sha).find((r) => r.name === "microship" && r.status === "completed"), 20_000, "the fork's build");
  await h.send("issue_comment", h.commentPayload({ number: 7, body: `/deploy ${sha.slice(0, 7)}`, user: "maintainer", commentId: 7001 }));
  const preview = await h.fake.waitFor(() => deploys.find((d) => d.target.kind === "preview" && d.digest.startsWith(`sha256:${sha.slice(0, 20)}`)), 20_000, "the fork's preview deploy");
  assert.ok(!("API_KEY" in preview.env), JSON.stringify(Object.keys(preview.env)));
  const forkBuilds = builds.filter((b) => b.source && b.cacheScope.endsWith("/pr-7"));
  assert.ok(forkBuilds.length >= 2, "the PR's build and /deploy's build");
  assert.ok(forkBuilds.every((b) => b.secrets.length === 0));
});

/** A push of `sha` to `repo` as GitHub sends it, with `id` as the repository's id (null: none, as a request stored before ids were). */
function pushOf(repo: string, id: number | null, sha: string) {
  const push = withRepo(loadExample("push", (e) => e.ref?.startsWith("refs/heads/") && !e.deleted), { owner: OWNER, repo, installationId: INSTALLATION });
  if (id === null) delete push.repository.id;
  else push.repository.id = id;
  return Object.assign(push, { ref: "refs/heads/main", after: sha, deleted: false });
}

test("the attack: ledger is renamed and a new repository takes the name; the renamed one keeps its secret, the newcomer's build and deploy get nothing", async () => {
  const ledgerId = idOf(OTHER);
  h.fake.renameRepo(OWNER, OTHER, "ledger-archive");
  h.fake.createRepo({ owner: OWNER, repo: OTHER, installationId: INSTALLATION });
  const newcomerId = idOf(OTHER);
  assert.notEqual(newcomerId, ledgerId);

  const renamed = h.fake.commit({ owner: OWNER, repo: "ledger-archive", branch: "main", files: { ".github/microship.yml": "deploy:\n  secrets: [LEDGER_KEY]\n", "index.js": "3" } });
  await h.send("push", pushOf("ledger-archive", ledgerId, renamed));
  await settled("ledger-archive", renamed);
  assert.deepEqual(builds.find((b) => b.tags[0] === renamed)!.secrets, [{ id: "LEDGER_KEY", value: OTHER_KEY }]);
  assert.equal(deploys.find((d) => d.sha === renamed)!.env.LEDGER_KEY, OTHER_KEY);

  const taken = h.fake.commit({ owner: OWNER, repo: OTHER, branch: "main", files: { ".github/microship.yml": "deploy:\n  secrets: [LEDGER_KEY]\n", "index.js": "4" } });
  await h.send("push", pushOf(OTHER, newcomerId, taken));
  const { main } = await settled(OTHER, taken);
  assert.deepEqual(builds.find((b) => b.tags[0] === taken)!.secrets, []);
  assert.ok(!("LEDGER_KEY" in deploys.find((d) => d.sha === taken)!.env));
  assert.match(await rawLog(main.details_url!), /Secrets not set for octo-org\/ledger: LEDGER_KEY\./);
});

test("a request without a repository id (as one stored before ids were recorded) gets no secrets, and its log and deploy check say why", async () => {
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { ".github/microship.yml": CONFIG, "index.js": "stale" } });
  await h.send("push", pushOf(REPO, null, sha));
  const { main, deploy } = await settled(REPO, sha);
  assert.deepEqual(builds.find((b) => b.tags[0] === sha)!.secrets, []);
  assert.ok(!("API_KEY" in deploys.find((d) => d.sha === sha)!.env));
  assert.match(await rawLog(main.details_url!), /stored before microship recorded repository ids, so it gets no secrets/);
  assert.match(deploy.output.summary ?? "", /stored before microship recorded repository ids/);

  // Re-run on GitHub's Checks tab, as the log says: the event's repository id goes with the stored request.
  const rerun = withRepo(loadExample("check_run", (e) => e.action === "rerequested"), { owner: OWNER, repo: REPO, installationId: INSTALLATION, repositoryId: idOf(REPO) });
  rerun.check_run.external_id = main.external_id;
  rerun.check_run.head_sha = sha;
  const before = builds.filter((b) => b.tags[0] === sha).length;
  await h.send("check_run", rerun);
  const again = await h.fake.waitFor(() => builds.filter((b) => b.tags[0] === sha)[before], 20_000, "the re-run's build");
  assert.deepEqual(again.secrets, [{ id: "API_KEY", value: SHOP_KEY }]);
});
