import { test } from "node:test";
import assert from "node:assert/strict";
import { AppIdentity } from "../../../src/github/app-identity.ts";
import { deploymentTarget } from "../../../src/github/handlers/on-deployment.ts";
import { refuseDeployment } from "../../../src/github/reporter/deployment-refusal.ts";

test("a deployment is ours only when our app made it: by its id, else by its bot's login against the slug GET /app gives", async () => {
  let asked = 0;
  const self = new AppIdentity(42, async () => (asked++, "microship"));
  assert.equal(await self.madeIt({ performed_via_github_app: { id: 42 }, creator: { login: "someone", type: "User" } }), true);
  assert.equal(await self.madeIt({ performed_via_github_app: { id: 7, slug: "microship" }, creator: { login: "microship[bot]", type: "Bot" } }), false, "another app's id is not ours, whatever its names");
  assert.equal(await self.madeIt({ creator: { login: "Microship[bot]", type: "Bot" } }), true);
  assert.equal(await self.madeIt({ creator: { login: "microship[bot]", type: "User" } }), false, "a user named like our bot is a user");
  assert.equal(await self.madeIt({ creator: { login: "github-pages[bot]", type: "Bot" }, performed_via_github_app: null }), false);
  assert.equal(await self.madeIt({ creator: { login: "octocat", type: "User" } }), false);
  assert.equal(asked, 1, "the slug is asked once");
});

test("a slug GitHub did not give is asked again on the next bot's deployment, and meanwhile the bot's is not ours", async () => {
  let fail = true;
  const self = new AppIdentity(42, async () => {
    if (fail) throw new Error("GitHub is down");
    return "microship";
  });
  assert.equal(await self.madeIt({ creator: { login: "microship[bot]", type: "Bot" } }), false);
  fail = false;
  assert.equal(await self.madeIt({ creator: { login: "microship[bot]", type: "Bot" } }), true);
});

test("only microship's own environment names are targets: preview/pr-N and a config environment name", () => {
  assert.deepEqual(deploymentTarget("preview/pr-12"), { kind: "preview", environment: "preview/pr-12", slug: "pr-12", transient: true, production: false });
  assert.equal(deploymentTarget("production")?.production, true);
  assert.equal(deploymentTarget("staging")?.kind, "environment");
  for (const name of ["preview/pr-0", "preview/pr-01", "preview/pr-1234567890", "preview/pr-1 ", "Production", "github-pages!", "a".repeat(31), "", "../x", "-x"]) {
    assert.equal(deploymentTarget(name), null, name);
  }
});

test("a refusal's description is cut to GitHub's 140 characters", async () => {
  const sent: Record<string, unknown>[] = [];
  const gh = { request: async (_route: string, params?: Record<string, unknown>) => (sent.push(params ?? {}), { data: {} }) };
  await refuseDeployment(gh as never, { owner: "o", repo: "r", deploymentId: 9, why: "x".repeat(500) });
  assert.equal(sent[0]!.state, "failure");
  assert.equal(sent[0]!.deployment_id, 9);
  assert.equal(String(sent[0]!.description).length, 140);
});
