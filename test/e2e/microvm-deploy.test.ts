import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureBaseImages, CACHE, type BaseImages } from "../helpers/base-images.ts";
import { MicroVmDeployer } from "../../src/deploy/microvm/microvm-deployer.ts";
import { RouteTable } from "../../src/deploy/proxy/route-table.ts";
import { createDeployProxy, type DeployProxy } from "../../src/deploy/proxy/deploy-proxy.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../src/registry/embedded-registry.ts";
import type { DeployInput } from "../../src/core/deployer.ts";
import { quietLog } from "../helpers/pipeline-doubles.ts";
import { cleanupAll } from "../helpers/cleanup.ts";

// The microvm deployer for real: images in the embedded registry (busybox's httpd, configured
// with umoci: no build needed here, microvm-app.test.ts builds in a VM) run in QEMU microVMs
// (TCG on this kind of host) and answer through the deploy proxy as microship mounts it.
const run = async (cmd: string, args: string[]) => (await promisify(execFile)(cmd, args)).stdout;
let base: BaseImages;
let registry: EmbeddedRegistry;
let deployer: MicroVmDeployer;
// The deployer of "the process before" a restart, left unclosed as a killed process would leave it.
let previous: MicroVmDeployer | null = null;
let proxy: DeployProxy;
let front: Server;
const closers: (() => unknown)[] = [];
let dir: string;
// Idle time passes by moving this clock, not by waiting.
let skew = 0;
let routes = new RouteTable({ domain: "localhost", now: () => Date.now() + skew });
const pids = new Set<number>();
const images: Record<string, string> = {};

/** An image whose CMD serves `text` on $PORT as the image's USER nobody; its digest. */
async function pushImage(tag: string, cmd: string): Promise<string> {
  const oci = join(dir, "oci");
  await run("umoci", ["config", "--image", `${oci}:busybox`, "--tag", tag, "--config.cmd", "sh", "--config.cmd", "-c", "--config.cmd", cmd, "--config.user", "nobody", "--config.env", `GREETING=${tag}`]);
  const creds = `${registry.auth!.username}:${registry.auth!.password}`;
  await run("skopeo", ["copy", "-q", "--dest-tls-verify=false", "--dest-creds", creds, `oci:${oci}:${tag}`, `docker://${registry.address}/octo/shop:${tag}`]);
  return (await run("skopeo", ["inspect", "--tls-verify=false", "--creds", creds, "--format", "{{.Digest}}", `docker://${registry.address}/octo/shop:${tag}`])).trim();
}

before(async () => {
  base = await ensureBaseImages();
  dir = await mkdtemp(join(tmpdir(), "ms-microvm-deploy-"));
  registry = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
  await run("skopeo", ["copy", "-q", "--src-tls-verify=false", `docker://${base.mirror}/busybox:latest`, `oci:${join(dir, "oci")}:busybox`]);
  const serve = "mkdir -p /tmp/www && echo \"hello $GREETING $SECRET_LEN\" > /tmp/www/index.html && exec httpd -f -p \"$PORT\" -h /tmp/www";
  images.v1 = await pushImage("v1", serve);
  images.v2 = await pushImage("v2", serve);
  images.broken = await pushImage("broken", "echo the app crashed with $TOKEN; exit 3");
  deployer = newDeployer();
  await newFront();
}, { timeout: 600_000 });

const newDeployer = () => new MicroVmDeployer({
  dataDir: join(CACHE, "microvm"), appDiskDir: join(dir, "app-disks"), stateDir: join(dir, "state"), routes, log: quietLog, registryAuth: registry.auth, insecureRegistries: [registry.address],
  healthTimeoutMs: 240_000, drainMs: 1_000, onVmStart: (pid) => pids.add(pid),
});

/** microship's HTTP server with the deploy proxy on `routes`. */
async function newFront(): Promise<void> {
  proxy = createDeployProxy(routes);
  front = createServer((req, res) => proxy.handle(req, res, () => res.end("microship's own page")));
  await new Promise<void>((ok) => front.listen(0, "127.0.0.1", ok));
  routes.listening((front.address() as AddressInfo).port);
  const [p, f] = [proxy, front];
  closers.push(() => p.close(), () => f.close());
}

after(() => cleanupAll(() => deployer?.close(), () => previous?.close(), ...closers, () => registry?.stop(), () => base?.stop(), () => dir && rm(dir, { recursive: true, force: true })));

const hexOf = (digest: string) => digest.split(":")[1]!;
const appDisks = () => readdirSync(join(dir, "app-disks")).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort();
const stateFiles = () => readdirSync(join(dir, "state")).filter((n) => n.endsWith(".json"));

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const target = { kind: "preview" as const, environment: "preview/pr-12", slug: "pr-12", transient: true, production: false };
const input = (tag: string, lines: string[] = []): DeployInput => ({
  owner: "octo", repo: "shop", app: null, target, installationId: 77, sha: tag.padEnd(40, "0"), expiresAt: new Date(Date.now() + 86_400_000), idleMinutes: null,
  imageRef: `${registry.address}/octo/shop@${images[tag]}`, digest: images[tag]!, port: 3000, health: "/index.html",
  env: { SECRET_LEN: "42", TOKEN: "s3cr3t-token-value" }, signal: new AbortController().signal, log: (l) => lines.push(l),
});

function viaProxy(host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: (front.address() as AddressInfo).port, path: "/index.html", headers: { host }, timeout: 30_000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

let host = "";

test("an image runs in a microVM as its USER, with its env, the deploy's env and $PORT, and answers through the proxy", { timeout: 300_000 }, async () => {
  const r = await deployer.deploy(input("v1"));
  assert.match(r.url, /^http:\/\/pr-12-shop-[0-9a-f]{6}\.localhost:\d+$/);
  host = new URL(r.url).host;
  assert.deepEqual(await viaProxy(host), { status: 200, body: "hello v1 42\n" });
  assert.equal((await viaProxy(`127.0.0.1:${new URL(r.url).port}`)).body, "microship's own page");
  const [live] = await deployer.list({ owner: "octo", repo: "shop" }, new AbortController().signal);
  assert.deepEqual([live?.state, live?.installationId, live?.url, live?.digest], ["running", 77, r.url, images.v1]);
  assert.ok(live?.expiresAt instanceof Date);
  const lines: string[] = [];
  const again = await deployer.deploy(input("v1", lines));
  assert.equal(again.instance, r.instance);
  assert.match(lines.join("\n"), /already serves this image/);
  assert.equal([...pids].filter(alive).length, 1, "idempotent: still one VM");
});

test("a redeploy (fresh) of the serving image boots a new VM under another name, moves the route and stops the old VM", { timeout: 300_000 }, async () => {
  const [before] = await deployer.list({ owner: "octo", repo: "shop" }, new AbortController().signal);
  const oldPids = [...pids].filter(alive);
  const r = await deployer.deploy({ ...input("v1"), fresh: true });
  assert.notEqual(r.instance, before!.instance, "a fresh instance, not the one that served");
  assert.deepEqual(r.replaced, [before!.instance]);
  assert.equal(r.url, `http://${host}`, "the URL stays");
  assert.deepEqual(await viaProxy(host), { status: 200, body: "hello v1 42\n" });
  assert.deepEqual(oldPids.filter(alive), [], "the old VM stopped");
  assert.equal([...pids].filter(alive).length, 1);
  const live = await deployer.list({ owner: "octo", repo: "shop" }, new AbortController().signal);
  assert.deepEqual(live.map((d) => [d.instance, d.digest, d.state]), [[r.instance, images.v1, "running"]]);
});

test("a new image switches VMs with no failed request in a steady loop; the old VM stops", { timeout: 300_000 }, async () => {
  const seen: string[] = [];
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const r = await viaProxy(host).catch((err: Error) => ({ status: 0, body: err.message }));
      seen.push(r.status === 200 ? r.body.split(" ")[1]! : `status ${r.status}: ${r.body.slice(0, 100)}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  const r = await deployer.deploy(input("v2"));
  await new Promise((res) => setTimeout(res, 500));
  stop = true;
  await loop;
  assert.equal(`http://${host}`, r.url, "the URL stays: the route moved");
  assert.deepEqual(seen.filter((s) => s !== "v1" && s !== "v2"), [], "no request failed across the switch");
  assert.ok(seen.includes("v1") && seen.at(-1) === "v2" && seen.indexOf("v2") > seen.lastIndexOf("v1"), seen.join(","));
  assert.equal(r.replaced.length, 1);
  assert.equal([...pids].filter(alive).length, 1, "the old VM stopped");
  assert.deepEqual(appDisks(), [hexOf(images.v2!)], "the old image's disk is collected, the serving one's kept");
});

test("a version that fails its health check stops only its own VM; the old keeps serving; secrets stay out of the message", { timeout: 300_000 }, async () => {
  await assert.rejects(deployer.deploy(input("broken")), (err: Error) => {
    assert.match(err.message, /did not pass its health check \(GET \/index\.html on port 3000\)/);
    assert.match(err.message, /the app crashed with \*\*\*/);
    assert.doesNotMatch(err.message, /s3cr3t-token-value/);
    return true;
  });
  assert.equal((await viaProxy(host)).body, "hello v2 42\n");
  assert.equal([...pids].filter(alive).length, 1);
});

test("an idle preview sleeps (its QEMU stops, it lists as sleeping); a request gets the waking page, then the app answers with its env", { timeout: 300_000 }, async () => {
  const t13 = { ...target, environment: "preview/pr-13", slug: "pr-13" };
  const r = await deployer.deploy({ ...input("v1"), target: t13, idleMinutes: 1 });
  const h13 = new URL(r.url).host;
  assert.equal((await viaProxy(h13)).body, "hello v1 42\n");
  const running = [...pids].filter(alive).length;
  skew += 61_000;
  await deployer.checkIdle();
  const state = async () => (await deployer.list({ owner: "octo", repo: "shop" }, new AbortController().signal)).find((d) => d.instance === r.instance)?.state;
  assert.equal(await state(), "sleeping");
  assert.equal([...pids].filter(alive).length, running - 1, "the idle preview's QEMU stopped");
  assert.equal((await viaProxy(host)).status, 200, "the preview without idle_minutes still serves");
  const waking = await viaProxy(h13);
  assert.equal(waking.status, 503);
  assert.match(waking.body, /Waking up/);
  let got = waking;
  for (let i = 0; i < 960 && got.status !== 200; i++) {
    await new Promise((res) => setTimeout(res, 250));
    got = await viaProxy(h13);
  }
  assert.deepEqual(got, { status: 200, body: "hello v1 42\n" }, "same image, same env");
  assert.equal(await state(), "running");
  assert.equal(await deployer.teardown({ owner: "octo", repo: "shop", target: t13 }, new AbortController().signal), 1);
});

test("microship killed and started again: the new deployer lists the deployment asleep, kills the QEMU left running, and a request wakes it with its env", { timeout: 300_000 }, async () => {
  const left = [...pids].filter(alive);
  assert.equal(left.length, 1, "pr-12's VM still runs");
  const [file] = stateFiles();
  assert.equal(readFileSync(join(dir, "state", file!)).includes("s3cr3t-token-value"), false, "the env's secret is not in the state file");
  previous = deployer;
  // This process lives on, so the previous deployer still holds its flock; a killed microship's
  // is dropped by the kernel (test/unit/deploy/state-dir-lock.test.ts). Unlinking the lock file
  // (what microship never does) lets the next one lock a new file, as after a kill.
  await rm(join(dir, "state", "owner.lock"));
  routes = new RouteTable({ domain: "localhost" });
  await newFront();
  deployer = newDeployer();
  const [live] = await deployer.list(null, new AbortController().signal);
  assert.deepEqual([live?.state, live?.digest, live?.url, live?.installationId], ["sleeping", images.v2, `http://${host.split(":")[0]}:${(front.address() as AddressInfo).port}`, 77]);
  await deployer.restored;
  // Killed, it is reaped by its parent (this test process here; init after a real kill -9) a moment later.
  for (let i = 0; i < 100 && left.some(alive); i++) await new Promise((res) => setTimeout(res, 100));
  assert.deepEqual(left.filter(alive).map((p) => `${p}: ${readFileSync(`/proc/${p}/stat`, "utf8").slice(0, 300)}`), [], "the previous process's QEMU is killed: never two VMs for one instance");
  assert.deepEqual(appDisks(), [hexOf(images.v2!)]);
  host = new URL(live!.url).host;
  let got = await viaProxy(host);
  assert.equal(got.status, 503);
  for (let i = 0; i < 960 && got.status !== 200; i++) {
    await new Promise((res) => setTimeout(res, 250));
    got = await viaProxy(host);
  }
  assert.deepEqual(got, { status: 200, body: "hello v2 42\n" }, "same image, same env, decrypted");
  assert.equal([...pids].filter(alive).length, 1);
  // A graceful stop: the VM stops, its record stays for the next start.
  await deployer.close();
  assert.deepEqual([[...pids].filter(alive), stateFiles().length], [[], 1]);
  deployer = newDeployer();
  assert.deepEqual((await deployer.list(null, new AbortController().signal)).map((d) => [d.state, d.digest]), [["sleeping", images.v2]]);
  assert.equal(routes.get(host.split(".")[0]!)?.sleeping, true, "asleep: the next request would wake it");
});

test("teardown, even while a request wakes the preview, stops every VM of the target and removes its route; again, it finds nothing", { timeout: 300_000 }, async () => {
  // The wake boots under the name's lock; a teardown that didn't wait for it would leave its VM running.
  assert.equal((await viaProxy(host)).status, 503);
  assert.equal(await deployer.teardown({ owner: "octo", repo: "shop", target }, new AbortController().signal), 1);
  assert.deepEqual([...pids].filter(alive), []);
  assert.deepEqual(routes.names(), []);
  assert.equal((await viaProxy(host)).status, 404);
  assert.deepEqual(await deployer.list(null, new AbortController().signal), []);
  assert.deepEqual([stateFiles(), appDisks()], [[], []], "no state file, no app disk is left");
  assert.equal(await deployer.teardown({ owner: "octo", repo: "shop", target }, new AbortController().signal), 0);
});
