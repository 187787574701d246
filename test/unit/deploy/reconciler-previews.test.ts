import { test } from "node:test";
import assert from "node:assert/strict";
import { PreviewReconciler, previewsOf } from "../../../src/core/deploy/reconciler.ts";
import { DeploymentLocks } from "../../../src/core/deploy/deployment-lock.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import type { LiveDeployment } from "../../../src/core/deployer.ts";

function live(slug: string, o: Partial<LiveDeployment> = {}): LiveDeployment {
  return {
    owner: "octo", repo: "app", app: null, installationId: 1, sha: "f".repeat(40), instance: `i-${slug}`, url: "http://x", imageRef: "r", digest: "d",
    createdAt: new Date(0), expiresAt: null, state: "running",
    target: { kind: "preview", environment: `preview/${slug}`, slug, transient: true, production: false }, ...o,
  };
}

test("only well-formed preview tags name a pull request: the tags are only as good as whoever wrote them", () => {
  const hostile = ["pr-", "pr-0", "pr-1e3", "pr-12a", "pr--1", "pr-99999999999999999999", "pr- 1", "production", "pr-1.5", "PR-3"];
  assert.deepEqual(previewsOf(hostile.map((s) => live(s))), []);
  assert.deepEqual(previewsOf([live("pr-7")]).map((p) => p.number), [7]);
});

test("environments are never previews, whatever their slug", () => {
  const env = live("pr-8", { target: { kind: "environment", environment: "pr-8", slug: "pr-8", transient: false, production: false } });
  assert.deepEqual(previewsOf([env]), []);
});

test("a preview's apps are gathered, and it expires only when all its instances have, at the latest one's time", () => {
  const [p] = previewsOf([
    live("pr-4", { app: "web", expiresAt: new Date(1_000) }),
    live("pr-4", { app: "api", expiresAt: new Date(5_000) }),
    live("pr-4", { app: "web", expiresAt: new Date(2_000) }),
  ]);
  assert.deepEqual(p!.apps, ["web", "api"]);
  assert.equal(p!.expiresAt, 5_000);
  const [kept] = previewsOf([live("pr-5", { expiresAt: new Date(1_000) }), live("pr-5", { expiresAt: null })]);
  assert.equal(kept!.expiresAt, null, "an instance without an expiry waits for its pull request to close");
});

test("the same number in two repositories is two previews", () => {
  assert.equal(previewsOf([live("pr-1"), live("pr-1", { repo: "other" })]).length, 2);
});

test("previews past the per-pass bound get their turn in the next passes", async () => {
  const running = [live("pr-1"), live("pr-2"), live("pr-3")];
  const asked: number[] = [];
  const torn: string[] = [];
  const deployer = {
    name: "stub", describe: () => "stub", deploy: async () => { throw new Error("not used"); },
    list: async () => running.filter((d) => !torn.includes(d.target.environment)),
    teardown: async (k: { target: { environment: string } }) => (torn.push(k.target.environment), 1),
  };
  // Only pr-3 is closed, and it is last: a bound of one per pass must still reach it.
  const pulls = { isOpen: async (_i: number, _o: string, _r: string, n: number) => (asked.push(n), n !== 3) };
  const reconciler = new PreviewReconciler({ deployer, deployments: null, pulls, locks: new DeploymentLocks(null), log: quietLog }, { intervalMs: 60_000, maxPerPass: 1 });
  for (let i = 0; i < 3; i++) await reconciler.runOnce();
  assert.deepEqual(asked, [1, 2, 3]);
  assert.deepEqual(torn, ["preview/pr-3"]);
});
