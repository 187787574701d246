import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { join } from "node:path";
import { ensureBaseImages, CACHE, type BaseImages } from "../helpers/base-images.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { fakeDeployments } from "../fakes/github/deployment-handlers.ts";
import { MicroVmDeployer } from "../../src/deploy/microvm/microvm-deployer.ts";
import { RouteTable } from "../../src/deploy/proxy/route-table.ts";
import type { Deployer } from "../../src/core/deployer.ts";
import { PREVIEW_MARKER } from "../../src/github/reporter/preview-comment.ts";
import { quietLog } from "../helpers/pipeline-doubles.ts";
import { cleanupAll } from "../helpers/cleanup.ts";
import { corpusAppFiles } from "../helpers/corpus-app-files.ts";

// The whole preview flow for real: a signed pull_request.opened of a corpus app is built by
// buildah on the host, deployed by the microvm deployer in a QEMU microVM (TCG on this kind of
// host), and answers on its preview host through microship's own proxy; closing the PR takes it
// all down. The app is the corpus's plain HTML site (detected, its Dockerfile rendered: Caddy
// serves it): a small image, so the test stays near a minute under TCG.
const CORPUS = new URL("../fixtures/apps/", import.meta.url).pathname;

let base: BaseImages;
let h: Harness;
let inner: MicroVmDeployer | null = null;
const pids = new Set<number>();
const routes = new RouteTable({ domain: "localhost" });

/** The deployer needs the embedded registry's credentials, which exist once microship runs. */
const lateDeployer: Deployer = {
  name: "microvm",
  describe: () => "QEMU microvm (test)",
  deploy: (i) => inner!.deploy(i),
  list: (f, s) => inner!.list(f, s),
  teardown: (k, s) => inner!.teardown(k, s),
} as Deployer;

before(async () => {
  base = await ensureBaseImages();
  h = await startHarness({ deployer: lateDeployer, deployRoutes: routes }, { MICROSHIP_BASE_IMAGE_MIRROR: base.mirror, MICROSHIP_BUILD_TIMEOUT: "600" });
  inner = new MicroVmDeployer({
    dataDir: join(CACHE, "microvm"), appDiskDir: join(h.dataDir, "app-disks"), stateDir: join(h.dataDir, "deploy-state"), routes, log: quietLog, registryAuth: h.app.registryAuth, insecureRegistries: [h.app.registry],
    healthTimeoutMs: 240_000, drainMs: 500, onVmStart: (pid) => pids.add(pid),
  });
}, { timeout: 600_000 });

after(() => cleanupAll(
  () => assert.deepEqual(h.fake.unknownCalls(), [], "no call outside the OpenAPI subset"),
  () => assert.deepEqual(h.fake.rejectedCalls().map((c) => `${c.method} ${c.path} ${c.status}`), [], "no request rejected by validation"),
  () => inner?.close(), () => h?.stop(), () => base?.stop(),
));

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const deploymentsOf = (environment: string) => fakeDeployments(h.fake.state).filter((d) => d.environment === environment);
const lastState = (d: { statuses: { state: string }[] }) => d.statuses.at(-1)?.state;
const previewComments = (n: number) => h.fake.state.comments.filter((c) => c.issue_number === n && c.body.startsWith(PREVIEW_MARKER));

function viaMicroship(host: string): Promise<{ status: number; body: string }> {
  const port = Number(new URL(h.app.url).port);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host }, timeout: 30_000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("a signed pull_request.opened is built, deployed in a microVM and answers through microship's proxy; closing it leaves nothing", { timeout: 600_000 }, async () => {
  const sha = h.fake.commit({
    owner: OWNER, repo: REPO, branch: "pr-5",
    files: corpusAppFiles(join(CORPUS, "static-plain-html")),
  });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 5, headSha: sha, headRef: "pr-5" });
  await h.send("pull_request", h.prPayload({ action: "opened", number: 5, sha, headRef: "pr-5" }));
  const d = await h.fake.waitFor(() => deploymentsOf("preview/pr-5").find((x) => ["success", "failure", "error"].includes(lastState(x) ?? "")), 540_000, "the deployment to settle");
  const runs = h.fake.checkRuns(OWNER, REPO).filter((r) => r.head_sha === sha);
  assert.equal(lastState(d), "success", runs.map((r) => `${r.name}: ${r.conclusion}\n${r.output.summary}\n${r.output.text?.slice(-1500)}`).join("\n"));
  const url = d.statuses.at(-1)!.environment_url!;
  assert.match(url, /^http:\/\/pr-5-shop-[0-9a-f]{6}\.localhost:\d+$/);
  const page = await viaMicroship(new URL(url).host);
  assert.equal(page.status, 200);
  assert.match(page.body, /<h1>Field notes<\/h1>/, "the corpus app's own text");
  const comments = await h.fake.waitFor(() => previewComments(5).find((c) => c.body.includes(url)) && previewComments(5), 30_000, "the preview comment");
  assert.equal(comments.length, 1, "exactly one PR comment");
  assert.equal([...pids].filter(alive).length, 1);

  await h.send("pull_request", h.prPayload({ action: "closed", number: 5, sha, headRef: "pr-5" }));
  await h.fake.waitFor(() => deploymentsOf("preview/pr-5").every((x) => lastState(x) === "inactive"), 60_000, "the deployment inactive");
  await h.fake.waitFor(() => [...pids].filter(alive).length === 0 && routes.names().length === 0, 60_000, "no VM and no route");
  assert.equal((await viaMicroship(new URL(url).host)).status, 404);
  assert.deepEqual(await inner!.list(null, new AbortController().signal), []);
});
