import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startHarness, OWNER, REPO, type Harness } from "../../helpers/microship-harness.ts";
import { ScriptedBuilder, emptyArchiver, fixedPlanner, namer, plan } from "../../helpers/pipeline-doubles.ts";

// The operator's MICROSHIP_BUILD_TIMEOUT_MAX bounds what a repository's `timeout:` asks for.
let h: Harness | null = null;
after(() => h?.stop());

test("a repository's timeout above MICROSHIP_BUILD_TIMEOUT_MAX is cut to it, and the log says so; below it, and unset, as asked and the default", async () => {
  const seen: number[] = [];
  const builder = new ScriptedBuilder(async (input) => {
    seen.push(input.timeoutSeconds);
    return { digest: `sha256:${"a".repeat(64)}` };
  });
  const plans = [plan({ app: "greedy", timeoutSeconds: 7_200 }), plan({ app: "modest", timeoutSeconds: 300 }), plan({ app: "plain", timeoutSeconds: null })];
  h = await startHarness({ builder, planner: fixedPlanner(plans), archiver: emptyArchiver, images: namer }, { MICROSHIP_BUILD_TIMEOUT: "420", MICROSHIP_BUILD_TIMEOUT_MAX: "600" });
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "main", files: { a: "1" } });
  await h.send("push", h.pushPayload({ sha, branch: "main" }));
  const runs = await h.fake.waitFor(() => {
    const done = h!.fake.checkRuns(OWNER, REPO).filter((r) => r.head_sha === sha && r.status === "completed");
    return done.length >= 3 ? done : undefined;
  }, 30_000, "three apps' check runs");
  // One image name for all three (the test namer), so the timeouts are compared as a set.
  assert.deepEqual(seen.sort((x, y) => x - y), [300, 420, 600]);
  const greedy = runs.find((r) => r.name.endsWith("greedy"))!;
  const raw = await (await fetch(greedy.details_url!.replace("http://microship.test", h.app.url).replace("?", "/log.txt?"))).text();
  assert.match(raw, /timeout: 7200 s asked in the config; this server allows at most 600 s \(MICROSHIP_BUILD_TIMEOUT_MAX\)/);
});
