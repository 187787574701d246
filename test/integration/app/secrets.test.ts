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
