import { test } from "node:test";
import assert from "node:assert/strict";
import { startHarness, OWNER, REPO } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer } from "../../helpers/pipeline-doubles.ts";

test("a token that a build prints reaches no log, check run or page", async () => {
  let planted = "";
  const builder = new ScriptedBuilder(async (_input, log) => {
    // A build that echoes its credentials, as careless build scripts do.
    planted = [...h.fake.state.tokens.keys()].at(-1)!;
    log(`debug: GITHUB_TOKEN=${planted}`);
    log(`cloning https://x-access-token:${planted}@github.com/${OWNER}/${REPO}.git`);
    log("Authorization: Bearer sk_live_0123456789abcdefghijklmnop");
    return { digest: `sha256:${"d".repeat(64)}` };
  });
  const h = await startHarness({ builder, planner: fixedPlanner(), archiver: emptyArchiver, images: namer });
  try {
    const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "leaky", files: { a: "1" } });
    await h.send("push", h.pushPayload({ sha, branch: "leaky" }));
    const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.status === "completed"), 20_000);
    assert.ok(planted.startsWith("ghs_"), "a real installation token was planted");
    const page = await (await fetch(run.details_url!.replace("http://microship.test", h.app.url))).text();
    const raw = await (await fetch(run.details_url!.replace("http://microship.test", h.app.url).replace("?", "/log.txt?"))).text();
    const everything = [JSON.stringify(run.history), JSON.stringify(h.fake.calls.map((c) => c.body)), page, raw, h.opLog()].join("\n");
    assert.ok(!everything.includes(planted), "the installation token leaked");
    assert.ok(!everything.includes("sk_live_0123456789abcdefghijklmnop"), "a bearer token leaked");
    assert.match(raw, /GITHUB_TOKEN=\[REDACTED\]/, "the line is kept, the value is not");
  } finally {
    await h.stop();
  }
});

test("the operator's own credentials are scrubbed wherever a build prints them, a non-JWT Hypeman key included", async () => {
  // Keys of no recognisable shape: only their registration at start can catch them.
  const keys = { HYPEMAN_API_KEY: "hm-plain-key-7f3a9c0d2e", MICROSHIP_METRICS_TOKEN: "metrics-token-5b8e1f4a6c" };
  const builder = new ScriptedBuilder(async (_input, log) => {
    log(`hypeman key ${keys.HYPEMAN_API_KEY}, metrics ${keys.MICROSHIP_METRICS_TOKEN}`);
    return { digest: `sha256:${"e".repeat(64)}` };
  });
  const h = await startHarness({ builder, planner: fixedPlanner(), archiver: emptyArchiver, images: namer }, { ...keys, HYPEMAN_BASE_URL: "http://127.0.0.1:9" });
  try {
    const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "keys", files: { a: "1" } });
    await h.send("push", h.pushPayload({ sha, branch: "keys" }));
    const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.status === "completed"), 20_000);
    const raw = await (await fetch(run.details_url!.replace("http://microship.test", h.app.url).replace("?", "/log.txt?"))).text();
    assert.match(raw, /hypeman key \[REDACTED\], metrics \[REDACTED\]/);
    const everything = [JSON.stringify(run.history), raw, h.opLog()].join("\n");
    for (const v of Object.values(keys)) assert.ok(!everything.includes(v), "an operator credential leaked");
  } finally {
    await h.stop();
  }
});
