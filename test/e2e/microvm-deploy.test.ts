import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBaseImages, CACHE, type BaseImages } from "../helpers/base-images.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { HostBuilder } from "../../src/builder/host/host-builder.ts";
import { ensureVmImage } from "../../src/builder/microvm/vm-image.ts";
import { MicroVmDeployer } from "../../src/deploy/microvm/microvm-deployer.ts";
import { RouteTable } from "../../src/deploy/proxy/route-table.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../src/registry/embedded-registry.ts";
import { fakeDeployments } from "../fakes/github/deployment-handlers.ts";
import { PREVIEW_MARKER } from "../../src/github/reporter/preview-comment.ts";
import { uniqueId } from "../helpers/contract-probes.ts";
import { quietLog } from "../helpers/pipeline-doubles.ts";
import { cleanupAll } from "../helpers/cleanup.ts";

// The embedded default end to end: a signed pull_request is built (buildah on the host), deployed by the
// microvm deployer into a VM of its own, and answers through microship's own proxy at
// {name}.localhost. The builder VM image is shared with the other microvm tests (test cache).
let base: BaseImages;
let registry: EmbeddedRegistry;
let deployer: MicroVmDeployer;
let h: Harness;
let dir: string;
const routes = new RouteTable({ domain: "localhost" });
const pids = new Set<number>();
const marker = uniqueId();

before(async () => {
  base = await ensureBaseImages();
  dir = await mkdtemp(join(tmpdir(), "ms-microvm-deploy-"));
  registry = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
  const vmDir = join(CACHE, "microvm");
  // Built on the host (microvm-app.test.ts covers building in a VM): the VM time here goes to deploys.
  const builder = new HostBuilder({ dir: join(CACHE, "host-builder") });
  await ensureVmImage({ dataDir: vmDir, progress: (l) => process.stderr.write(`${l}\n`) });
  deployer = new MicroVmDeployer({
    dataDir: vmDir, appDiskDir: join(dir, "app-disks"), routes, log: quietLog, registryAuth: registry.auth, insecureRegistries: [registry.address],
    healthTimeoutMs: 180_000, drainMs: 1_000, onVmStart: (pid) => pids.add(pid),
  });
  h = await startHarness({ builder, deployer, deployRoutes: routes, registryCredentials: registry.credentials }, {
    MICROSHIP_DEPLOYER: "microvm", MICROSHIP_REGISTRY: registry.address, MICROSHIP_BUILD_TIMEOUT: "600",
  });
}, { timeout: 900_000 });

after(() => cleanupAll(() => h?.stop(), () => registry?.stop(), () => base?.stop(), () => dir && rm(dir, { recursive: true, force: true })));

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const deploymentsOf = (environment: string) => fakeDeployments(h.fake.state).filter((d) => d.environment === environment);
const lastState = (d: { statuses: { state: string }[] }) => d.statuses.at(-1)?.state;
const previewComments = (n: number) => h.fake.state.comments.filter((c) => c.issue_number === n && c.body.startsWith(PREVIEW_MARKER));

/** GET through microship's own port with the deployment's Host, as a browser at {name}.localhost does. */
function viaProxy(host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const port = new URL(h.app.url).port;
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host }, timeout: 30_000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function pushPr(version: string, action: "opened" | "synchronize") {
  const files = {
    // A non-root USER: the deploy VM drops to it; httpd serves $PORT, which the deploy sets.
    Dockerfile: `FROM ${base.mirror}/busybox:latest\nRUN mkdir -p /www && echo "hello ${version} ${marker}" > /www/index.html\nUSER nobody\nCMD ["sh", "-c", "exec httpd -f -p \\"$PORT\\" -h /www"]\n`,
  };
  const sha = h.fake.commit({ owner: OWNER, repo: REPO, branch: "pr-12", files });
  h.fake.setPullRequest({ owner: OWNER, repo: REPO, number: 12, headSha: sha, headRef: "pr-12" });
  await h.send("pull_request", h.prPayload({ action, number: 12, sha, headRef: "pr-12" }));
  const deployment = await h.fake.waitFor(() => deploymentsOf("preview/pr-12").find((d) => d.sha === sha && ["success", "failure", "error"].includes(lastState(d) ?? "")), 400_000, `the deploy of ${version}`).catch((err) => {
    throw new Error(`${err.message}\n${h.opLog().split("\n").filter((l) => /"level":(40|50)|deploy/i.test(l)).slice(-30).join("\n")}`);
  });
  const deployCheck = h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.name === "microship/deploy");
  assert.equal(lastState(deployment), "success", `${deployCheck?.output.summary}\n${deployCheck?.output.text?.slice(-3000)}`);
  return { sha, url: deployment.statuses.at(-1)!.environment_url! };
}

let host = "";

test("a pull request's preview runs in a microVM and answers through microship's proxy at {name}.localhost", { timeout: 900_000 }, async () => {
  const { url } = await pushPr("v1", "opened");
  const port = new URL(h.app.url).port;
  assert.match(url, new RegExp(`^http://pr-12-shop-[0-9a-f]{6}\\.localhost:${port}$`));
  host = new URL(url).host;
  assert.deepEqual(await viaProxy(host), { status: 200, body: `hello v1 ${marker}\n` });
  assert.equal([...pids].filter(alive).length, 1, "one VM serves");
  const comments = await h.fake.waitFor(() => previewComments(12).find((c) => c.body.includes(url)) && previewComments(12), 10_000, "the preview comment");
  assert.equal(comments.length, 1);
  const [live] = await deployer.list({ owner: OWNER, repo: REPO }, new AbortController().signal);
  assert.equal(live?.state, "running");
  assert.equal(live?.installationId, 77);
  assert.equal(live?.url, url);
  assert.ok(live?.expiresAt instanceof Date, "a preview's expiry is recorded");
  assert.equal((await viaProxy(`pr-99-nothing-000000.localhost:${port}`)).status, 404);
});

test("a new image switches VMs with no failed request in a steady loop, and the old VM stops", { timeout: 900_000 }, async () => {
  const seen: string[] = [];
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const r = await viaProxy(host).catch((err: Error) => ({ status: 0, body: err.message }));
      seen.push(r.status === 200 ? r.body.split(" ")[1]! : `status ${r.status}: ${r.body.slice(0, 100)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const { sha, url } = await pushPr("v2", "synchronize");
  assert.equal(`http://${host}`, url, "the deployment keeps its URL: the route moved");
  await h.fake.waitFor(() => seen.at(-1) === "v2" && seen, 30_000, "v2 to answer");
  stop = true;
  await loop;
  assert.deepEqual(seen.filter((s) => s !== "v1" && s !== "v2"), [], "no request failed across the switch");
  assert.ok(seen.includes("v1") && seen.indexOf("v2") > seen.lastIndexOf("v1"), "v1, then only v2");
  await h.fake.waitFor(() => [...pids].filter(alive).length === 1, 30_000, "the old VM to stop");
  const live = await deployer.list(null, new AbortController().signal);
  assert.deepEqual(live.map((d) => [d.sha, d.state]), [[sha, "running"]]);
});

test("closing the pull request stops its VM, removes its route and marks its deployments inactive", { timeout: 120_000 }, async () => {
  const sha = h.fake.state.pulls.get(`${OWNER}/${REPO}#12`.toLowerCase())!.headSha;
  await h.send("pull_request", h.prPayload({ action: "closed", number: 12, sha, headRef: "pr-12" }));
  await h.fake.waitFor(() => deploymentsOf("preview/pr-12").every((d) => lastState(d) === "inactive") || null, 60_000, "inactive deployments");
  await h.fake.waitFor(() => [...pids].every((p) => !alive(p)) || null, 30_000, "no qemu left");
  assert.deepEqual(routes.names(), []);
  assert.equal((await viaProxy(host)).status, 404);
  assert.deepEqual(await deployer.list(null, new AbortController().signal), []);
});
