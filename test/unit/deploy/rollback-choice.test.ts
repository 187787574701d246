import { test } from "node:test";
import assert from "node:assert/strict";
import { rollbackCandidates, type DeployHistoryEntry } from "../../../src/core/deploy/rollback-choice.ts";
import { historyEntry } from "../../../src/github/deploy-history.ts";
import { forkDeployConfig, deployConfigFor } from "../../../src/core/deploy/fork-deploy.ts";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const entry = (c: string, o: Partial<DeployHistoryEntry> = {}): DeployHistoryEntry => ({
  app: null, sha: c.repeat(40), imageRef: `r/o/x@${digest(c)}`, digest: digest(c), buildId: `b-${c}`, rollback: false, ...o,
});

test("the image before the one running, newest first; rollbacks are stepped over, so two rollbacks go two versions back", () => {
  const history = [entry("c"), entry("b"), entry("a")];
  assert.deepEqual(rollbackCandidates(history, null, digest("c")).map((e) => e.sha[0]), ["b", "a"]);
  // After a rollback to b, the rollback's own deployment (newest) does not count as a version.
  const after = [entry("b", { rollback: true }), ...history];
  assert.deepEqual(rollbackCandidates(after, null, digest("b")).map((e) => e.sha[0]), ["a"]);
  assert.deepEqual(rollbackCandidates(history, null, digest("a")), [], "nothing before the first");
});

test("one app's history only; repeats of the running image are skipped; an unknown current takes every other image", () => {
  const history = [entry("c", { app: "web" }), entry("c"), entry("b", { app: "web" }), entry("c", { app: "web" }), entry("a", { app: "web" })];
  assert.deepEqual(rollbackCandidates(history, "web", digest("c")).map((e) => e.sha[0]), ["b", "a"]);
  assert.deepEqual(rollbackCandidates(history, null, digest("c")), []);
  assert.deepEqual(rollbackCandidates([entry("b"), entry("a")], null, digest("z")).map((e) => e.sha[0]), ["b", "a"]);
});

test("a deployment's payload is a version only when microship could have written it: the digest pinned, bounded fields", () => {
  const good = { sha: "a".repeat(40), payload: { app: "", build: "b1", image: `reg/o/r@${digest("a")}`, digest: digest("a"), rollback: false } };
  assert.deepEqual(historyEntry(good), { app: null, sha: "a".repeat(40), imageRef: `reg/o/r@${digest("a")}`, digest: digest("a"), buildId: "b1", rollback: false });
  const bad = [
    { ...good, payload: "a string payload" },
    { ...good, payload: null },
    { ...good, payload: [] },
    { ...good, sha: "main" },
    { ...good, payload: { ...good.payload, image: `reg/o/r:latest` } },
    { ...good, payload: { ...good.payload, image: `evil/x@${digest("b")}` } },
    { ...good, payload: { ...good.payload, digest: "sha256:XYZ" } },
    { ...good, payload: { ...good.payload, build: 5 } },
    { ...good, payload: { ...good.payload, app: "x".repeat(10_000) } },
    { ...good, payload: { ...good.payload, image: `${"x".repeat(100_000)}@${digest("a")}` } },
  ];
  for (const d of bad) assert.equal(historyEntry(d as never), null, JSON.stringify(d).slice(0, 80));
});

test("a fork's approved preview keeps only preview.env, port, health and lifetime of the base config", () => {
  const base = { port: 8080, health: "/up", env: { SHARED: "1" }, secrets: ["API_KEY"], release: "migrate", environments: { production: { branch: "main" } }, preview: { env: { DEMO: "1" }, ttl_days: 2, idle_minutes: 5 } };
  assert.deepEqual(forkDeployConfig(base), { port: 8080, health: "/up", preview: { forks: true, idle_minutes: 5, ttl_days: 2, env: { DEMO: "1" } } });
  assert.deepEqual(forkDeployConfig(undefined), { preview: { forks: true, env: {} } });
  const approved = { by: "m", deploy: forkDeployConfig(base) };
  const forkPr = { fork: true };
  assert.equal(deployConfigFor({ pr: forkPr, forkDeploy: approved }, { env: { FROM_FORK: "1" } }), approved.deploy, "the fork's own config is not used");
  assert.deepEqual(deployConfigFor({ pr: { fork: false }, forkDeploy: approved }, { env: { OWN: "1" } }), { env: { OWN: "1" } }, "an approval on a non-fork request changes nothing");
});
