/** The one ending a deployment made on GitHub gets for all its apps (deploymentSummary). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { deploymentSummary } from "../../../src/core/deploy/made-deployment.ts";
import type { ImageDeployResult } from "../../../src/core/deploy/image-deploy.ts";

const ok = (app: string | null, url: string): ImageDeployResult => ({ app, sha: "a".repeat(40), ok: true, state: "success", url, error: null });
const bad = (app: string | null, state: "failure" | "error"): ImageDeployResult => ({ app, sha: "a".repeat(40), ok: false, state, url: null, error: "it failed" });

test("a single app's ending is its own state, in the state's own words", () => {
  assert.deepEqual(deploymentSummary([ok(null, "http://a.test")]), { state: "success", url: "http://a.test" });
  assert.deepEqual(deploymentSummary([bad(null, "failure")]), { state: "failure", url: null });
  assert.deepEqual(deploymentSummary([bad(null, "error")]), { state: "error", url: null });
});

test("several apps succeed together with the first app's URL, and fail together naming the failed apps", () => {
  assert.deepEqual(deploymentSummary([ok("web", "http://web.test"), ok("api", "http://api.test")]), { state: "success", url: "http://web.test", description: "Ready: all 2 apps deployed" });
  const one = deploymentSummary([ok("web", "http://web.test"), bad("api", "failure")]);
  assert.deepEqual(one, { state: "failure", url: null, description: "Deploy failed for api; deployed: web" });
  assert.equal(deploymentSummary([bad("web", "error"), bad("api", "failure")]).state, "failure", "a user's failure among ours is the user's to fix");
  assert.equal(deploymentSummary([bad("web", "error"), bad("api", "error")]).state, "error");
});

test("the description stays within GitHub's 140 characters however many and long the app names", () => {
  const results = Array.from({ length: 30 }, (_, i) => bad(`app-with-a-long-name-${i}`.padEnd(40, "x"), "failure"));
  const d = deploymentSummary(results).description!;
  assert.equal([...d].length, 140);
  assert.ok(d.startsWith("Deploy failed for app-with-a-long-name-0"));
  assert.ok(d.endsWith("…"));
});
