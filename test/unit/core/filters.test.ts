import { test } from "node:test";
import assert from "node:assert/strict";
import { skipReason } from "../../../src/core/filters.ts";
import { parseRebuildCommand } from "../../../src/github/parse-rebuild-command.ts";
import { buildRequest } from "../../helpers/build-requests.ts";

test("branches filter pushes only", () => {
  assert.match(skipReason(buildRequest({ branch: "wip/x" }), { branches: ["main", "release/*"] }) ?? "", /matches none of `branches`/);
  assert.equal(skipReason(buildRequest({ branch: "release/1.2" }), { branches: ["main", "release/*"] }), null);
  assert.equal(skipReason(buildRequest({ trigger: "pull_request", branch: "wip/x" }), { branches: ["main"] }), null);
});

test("paths filter when the changed paths are known, and never an explicit re-run", () => {
  const cfg = { paths: ["src/**", "package.json"] };
  assert.match(skipReason(buildRequest({ changedPaths: ["docs/readme.md"] }), cfg) ?? "", /no changed file matches/);
  assert.equal(skipReason(buildRequest({ changedPaths: ["docs/a.md", "src/x/y.ts"] }), cfg), null);
  assert.equal(skipReason(buildRequest({ changedPaths: null }), cfg), null);
  assert.equal(skipReason(buildRequest({ changedPaths: ["docs/a.md"], rerun: true }), cfg), null);
});

test("/rebuild must stand alone on a line", () => {
  assert.deepEqual(parseRebuildCommand("/rebuild"), { noCache: false });
  assert.deepEqual(parseRebuildCommand("please\n/rebuild --no-cache\nthanks"), { noCache: true });
  assert.equal(parseRebuildCommand("can you /rebuild this?"), null);
  assert.equal(parseRebuildCommand("/rebuild now"), null);
  assert.equal(parseRebuildCommand("/rebuilding"), null);
});
