import { test } from "node:test";
import assert from "node:assert/strict";
import { mapPush } from "../../../src/github/map-push.ts";
import { mapPullRequest } from "../../../src/github/map-pull-request.ts";
import { loadExample } from "../../fakes/webhooks.ts";

test("a request made from a push or a pull request carries GitHub's repository id, as the real payloads give it", () => {
  const push = loadExample("push", (e) => e.ref?.startsWith("refs/heads/") && !e.deleted);
  push.repository.id = 424242;
  assert.equal(mapPush("d1", push as never)!.repositoryId, 424242);
  const pr = loadExample("pull_request", (e) => e.action === "opened");
  pr.repository.id = 434343;
  const request = mapPullRequest({ deliveryId: "d2", trigger: "pull_request", installationId: 1, repository: pr.repository, pr: pr.pull_request, sender: "s", rerun: false, noCache: false });
  assert.equal(request.repositoryId, 434343);
});

test("every event microship acts on carries repository.id (what secrets are kept by), in every example GitHub publishes", () => {
  for (const event of ["push", "pull_request", "check_run", "check_suite", "issue_comment", "deployment"]) {
    const all = [] as Record<string, any>[];
    for (let i = 0; ; i++) {
      try {
        let n = 0;
        all.push(loadExample(event, () => n++ === i));
      } catch {
        break;
      }
    }
    assert.ok(all.length > 0, event);
    for (const p of all) assert.ok(Number.isSafeInteger(p.repository?.id) && p.repository.id > 0, `${event}: ${JSON.stringify(p.repository?.id)}`);
  }
});
