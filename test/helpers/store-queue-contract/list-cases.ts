import assert from "node:assert/strict";
import { emptyOutcome } from "../../../src/core/build.ts";
import { sha } from "../build-requests.ts";
import { type ContractCase, T0, claim, mustGet, pr, submitNew } from "./contract-case.ts";

const page = { limit: 100, offset: 0 };

/** The dashboard's builds list (listBuilds) and its Cancel button (cancelBuild). */
export const listCases: ContractCase[] = [
  {
    name: "listBuilds: newest first, only the repositories given (any case), each filter narrowing, paged",
    async run({ store, queue }) {
      const a1 = await submitNew(store, { sha: sha("1"), branch: "main" }, T0);
      const a2 = await submitNew(store, { sha: sha("2"), branch: "feature", trigger: "pull_request", pr: pr(7) }, T0 + 10);
      const b1 = await submitNew(store, { owner: "octo", repo: "other", sha: sha("3"), branch: "main" }, T0 + 20);
      const hidden = await submitNew(store, { owner: "evil", repo: "app", sha: sha("4"), branch: "main" }, T0 + 30);
      const ids = async (q: Partial<Parameters<typeof store.listBuilds>[0]>) =>
        (await store.listBuilds({ repos: ["OCTO/App", "octo/other"], ...page, ...q })).map((b) => b.id);
      assert.deepEqual(await ids({}), [b1.id, a2.id, a1.id]);
      assert.deepEqual(await ids({ repos: [] }), [], "no repositories, no builds");
      assert.deepEqual(await ids({ repo: "octo/other" }), [b1.id]);
      assert.deepEqual(await ids({ repo: "evil/app" }), [], "a filter never widens what the reader may see");
      assert.deepEqual(await ids({ branch: "main" }), [b1.id, a1.id]);
      assert.deepEqual(await ids({ pr: 7 }), [a2.id]);
      assert.equal((await claim(queue, "w", T0 + 40))?.id, a1.id);
      assert.deepEqual(await ids({ state: "running" }), [a1.id]);
      await store.complete(a1.id, "success", { ...emptyOutcome("success", "ok"), builder: "buildah on the host" }, T0 + 50);
      assert.deepEqual(await ids({ builder: "buildah on the host" }), [a1.id]);
      assert.deepEqual(await ids({ builder: "buildah" }), [], "the builder is matched exactly");
      assert.deepEqual(await ids({ state: "completed", repo: "octo/app" }), [a1.id]);
      assert.deepEqual(await ids({ limit: 2, offset: 0 }), [b1.id, a2.id]);
      assert.deepEqual(await ids({ limit: 2, offset: 2 }), [a1.id]);
      assert.deepEqual(await ids({ limit: 2, offset: 4 }), []);
      assert.equal((await store.listBuilds({ repos: ["evil/app"], ...page }))[0]?.id, hidden.id);
      assert.equal((await store.listBuilds({ repos: ["octo/app"], limit: 1000, offset: 0 })).length, 2, "the limit is capped, not refused");
    },
  },
  {
    name: "listBuilds: a repository name is data, not a pattern",
    async run({ store }) {
      await submitNew(store, { owner: "octo", repo: "app", sha: sha("1") }, T0);
      assert.deepEqual(await store.listBuilds({ repos: ["octo/%"], ...page }), []);
      assert.deepEqual(await store.listBuilds({ repos: ["octo/_pp"], ...page }), []);
      assert.deepEqual(await store.listBuilds({ repos: ["octo/app"], branch: "%", ...page }), []);
    },
  },
  {
    name: "listBuilds: the commit message and a multi-app build's apps come back as stored, markup and all",
    async run({ store }) {
      const message = "<script>alert(1)</script> \u001b[31mred\u001b[0m ünïcödé 'quotes' \"double\"";
      const built = await submitNew(store, { sha: sha("1"), branch: "main", commitMessage: message }, T0);
      const shared = await store.submit({ ...built.request, deliveryId: "pr-delivery", trigger: "pull_request", pr: pr(3) }, T0 + 1);
      assert.equal(shared.kind, "existing");
      const apps = [{ name: "api", conclusion: "success" as const }, { name: "web", conclusion: "failure" as const }];
      await store.complete(built.id, "failure", { ...emptyOutcome("failure", "1 of 2 apps built"), apps }, T0 + 2);
      const [listed] = await store.listBuilds({ repos: ["octo/app"], ...page });
      assert.equal(listed?.request.commitMessage, message);
      assert.equal(listed?.request.pr?.number, 3, "the PR attached to the shared build");
      assert.deepEqual(listed?.outcome?.apps, apps);
    },
  },
  {
    name: "setCommitMessage: fills a request without one (a PR's), keeps one it has, leaves an unknown build; the text is data",
    async run({ store }) {
      const prBuild = await submitNew(store, { sha: sha("1"), branch: "feature", trigger: "pull_request", pr: pr(4) }, T0);
      const pushed = await submitNew(store, { sha: sha("2"), branch: "main", commitMessage: "From the push" }, T0 + 1);
      const message = `<b>it's</b> "quoted" $.commitMessage \\ ünïcödé 🚀`;
      await store.setCommitMessage(prBuild.id, message);
      await store.setCommitMessage(prBuild.id, "a second read");
      await store.setCommitMessage(pushed.id, "not this");
      await store.setCommitMessage("no-such-build", "nothing");
      const got = await mustGet(store, prBuild.id);
      assert.equal(got.request.commitMessage, message);
      assert.equal(got.request.pr?.number, 4, "the rest of the request is as it was");
      assert.equal(got.request.branch, "feature");
      assert.equal((await mustGet(store, pushed.id)).request.commitMessage, "From the push");
      const [listed] = await store.listBuilds({ repos: ["octo/app"], pr: 4, ...page });
      assert.equal(listed?.request.commitMessage, message);
    },
  },
  {
    name: "cancelBuild: a queued build ends now as cancelled, a running one is asked to stop, an ended or unknown one is left",
    async run({ store, queue }) {
      const running = await submitNew(store, { sha: sha("1"), branch: "a" }, T0);
      const queued = await submitNew(store, { sha: sha("2"), branch: "b" }, T0 + 1);
      assert.equal((await claim(queue, "w", T0 + 2, 1))?.id, running.id);
      const q = await store.cancelBuild(queued.id, T0 + 3);
      assert.deepEqual([q?.id, q?.state, q?.conclusion, q?.completedAt, q?.supersededBy], [queued.id, "completed", "cancelled", T0 + 3, null]);
      const r = await store.cancelBuild(running.id, T0 + 4);
      assert.deepEqual([r?.id, r?.state, r?.cancelRequested], [running.id, "running", true]);
      assert.equal(await store.cancelBuild(queued.id, T0 + 5), null, "already ended");
      assert.equal(await store.cancelBuild("no-such-build"), null);
      assert.equal((await mustGet(store, queued.id)).completedAt, T0 + 3, "a second cancel changed nothing");
      assert.equal(await claim(queue, "w", T0 + 6), null, "the cancelled build is never claimed");
    },
  },
];
