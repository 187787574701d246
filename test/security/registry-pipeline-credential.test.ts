import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelineDeps } from "../../src/core/pipeline-deps.ts";
import { runBuild } from "../../src/core/run-build.ts";
import { SqliteDatabase } from "../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../src/queue/sqlite/sqlite-queue.ts";
import { noMetrics } from "../../src/core/ports.ts";
import { RegistryImageNamer } from "../../src/registry/image-name.ts";
import { RegistryCredentialIssuer } from "../../src/registry/registry-credentials.ts";
import { decideAccess } from "../../src/registry/registry-access.ts";
import { buildRequest } from "../helpers/build-requests.ts";
import { RecordingReporter, ScriptedBuilder, emptyArchiver, fileConfig, filesSource, fixedPlanner, plan, quietLog } from "../helpers/pipeline-doubles.ts";

// Hole 7's plumbing: the pipeline asks for a credential per build and hands it, with the build's
// trust, to the builder. A fork's build gets one that writes only its own tags.

const scratch: string[] = [];
after(() => Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true }))));

test("each build gets its own credential for its own namespace and tags; a fork's build is marked untrusted", async () => {
  const sql = new SqliteDatabase(":memory:");
  const store = new SqliteStore(sql);
  const queue = new SqliteQueue(sql);
  const builder = new ScriptedBuilder(async () => ({ digest: `sha256:${"d".repeat(64)}` }));
  const issuer = new RegistryCredentialIssuer();
  const deps: PipelineDeps = {
    source: filesSource({ "index.js": "" }), config: fileConfig, planner: fixedPlanner([plan({ imageTemplate: "../../other-org/shop" })]), archiver: emptyArchiver, builder,
    reporter: new RecordingReporter(), store, images: new RegistryImageNamer("127.0.0.1:5000"), registryCredentials: issuer, secrets: null,
    links: { detailsUrl: (id) => `http://ms.test/builds/${id}` }, metrics: noMetrics, log: quietLog,
    workDir: await mkdtemp(join(tmpdir(), "ms-work-")).then((d) => (scratch.push(d), d)), buildTimeoutSeconds: 60, progressIntervalMs: 20,
  };
  const run = async (over: Parameters<typeof buildRequest>[0]) => {
    assert.equal((await store.submit(buildRequest({ owner: "octo-org", repo: "shop", ...over }))).kind, "created");
    await runBuild((await queue.claim({ workerId: "w", leaseMs: 60_000, maxRunning: 10 }))!, new AbortController().signal, deps);
    return builder.inputs.at(-1)!;
  };
  const grantOf = (i: { registryAuth?: { username: string; password: string } | null }) =>
    issuer.verify(`Basic ${Buffer.from(`${i.registryAuth!.username}:${i.registryAuth!.password}`).toString("base64")}`);
  const put = (grant: ReturnType<typeof grantOf>, name: string, tag: string) => decideAccess({ method: "PUT", path: `/v2/${name}/manifests/${tag}`, query: "", grant }).allow;

  const push = await run({ sha: "a".repeat(40), branch: "main" });
  assert.equal(push.untrusted, false);
  assert.equal(push.imageName, "127.0.0.1:5000/octo-org/shop/other-org/shop");
  const g = grantOf(push);
  assert.ok(g && g.kind === "build" && g.scope === "octo-org/shop");
  assert.ok(put(g, "octo-org/shop/other-org/shop", "main"));
  assert.ok(!put(g, "other-org/shop", "main"));

  const fork = await run({ sha: "b".repeat(40), branch: null, trigger: "pull_request", pr: { number: 7, fork: true, headRepo: "mallory/shop", headRef: "x", baseRef: "main" } });
  assert.equal(fork.untrusted, true);
  const f = grantOf(fork);
  assert.ok(f && f.kind === "build" && !f.pull);
  assert.ok(put(f, "octo-org/shop/other-org/shop", "pr-7"));
  assert.ok(!put(f, "octo-org/shop/other-org/shop", "main"), "a fork's credential can't write :main");
  assert.notEqual(fork.registryAuth!.password, push.registryAuth!.password);
});
