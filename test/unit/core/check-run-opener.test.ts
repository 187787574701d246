import { test } from "node:test";
import assert from "node:assert/strict";
import { CheckRunOpener } from "../../../src/core/check-run-opener.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import type { BuildRecord } from "../../../src/core/build.ts";
import { buildRequest, sha } from "../../helpers/build-requests.ts";
import { RecordingReporter, quietLog } from "../../helpers/pipeline-doubles.ts";

/** A reporter whose `queued` waits until the test lets it answer: a create still in flight. */
class SlowCreate extends RecordingReporter {
  release: () => void = () => {};
  private readonly gate = new Promise<void>((r) => (this.release = r));
  private onEnter: () => void = () => {};
  entered = new Promise<void>((r) => (this.onEnter = r));
  offset = 0;
  override async queued(build: BuildRecord): Promise<number> {
    this.onEnter();
    await this.gate;
    return this.offset + (await super.queued(build));
  }
}

test("a build superseded while its check run is being created gets that run concluded, not left queued", async () => {
  const store = new SqliteStore(new SqliteDatabase(":memory:"));
  const reporter = new SlowCreate();
  const links = { detailsUrl: (id: string) => `http://ms.test/builds/${id}` };
  const opener = new CheckRunOpener(store, reporter, quietLog, links);
  const first = await store.submit(buildRequest({ deliveryId: "d1", sha: sha("a"), branch: "feature" }));
  assert.equal(first.kind, "created");
  const opening = opener.ensure(first.build);
  await reporter.entered;
  // The newer push lands while GitHub is still creating the older build's run.
  const second = await store.submit(buildRequest({ deliveryId: "d2", sha: sha("b"), branch: "feature" }));
  assert.equal(second.kind === "created" && second.supersededQueued.length, 1, "the older build was superseded while queued");
  reporter.release();
  const id = await opening;
  const done = reporter.completions().filter((c) => c.checkRunId === id);
  assert.equal(done.length, 1, "the run created after the supersede was concluded");
  assert.equal(done[0]!.outcome.conclusion, "cancelled");
  assert.equal(done[0]!.outcome.title, "Superseded by a newer build");
});

test("two openers that race past a lost build lock keep one run: the second is ended as skipped, naming the first", async () => {
  const store = new SqliteStore(new SqliteDatabase(":memory:"));
  const reporter = new SlowCreate();
  const links = { detailsUrl: (id: string) => `http://ms.test/builds/${id}` };
  // Two replicas' openers, as after a Postgres restart dropped the advisory lock between them.
  const a = new CheckRunOpener(store, reporter, quietLog, links);
  // Its own reporter numbers runs from 100, the slow one's from 100 too: made distinct as GitHub's are.
  const b = new CheckRunOpener(store, new RecordingReporter(), quietLog, links);
  reporter.offset = 1000;
  const submitted = await store.submit(buildRequest({ deliveryId: "d1", sha: sha("a"), branch: "feature" }));
  assert.equal(submitted.kind, "created");
  const slow = a.ensure(submitted.build);
  await reporter.entered;
  const kept = await b.ensure(submitted.build);
  reporter.release();
  const duplicate = await slow;
  assert.equal(duplicate, kept, "the slow opener is told the run that was stored first");
  assert.equal((await store.getBuild(submitted.build.id))?.checkRunId, kept);
  const ended = reporter.completions();
  assert.equal(ended.length, 1, "the duplicate run was ended, not left queued");
  assert.equal(ended[0]!.outcome.conclusion, "skipped");
  assert.match(ended[0]!.outcome.skippedReason ?? "", new RegExp(`run ${kept} carries the build`));
});
