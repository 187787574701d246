import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureBaseImages, CACHE, type BaseImages } from "../helpers/base-images.ts";
import { MicroVmDeployer } from "../../src/deploy/microvm/microvm-deployer.ts";
import { deploymentName } from "../../src/deploy/microvm/deployment-name.ts";
import { RouteTable } from "../../src/deploy/proxy/route-table.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../src/registry/embedded-registry.ts";
import type { DeployInput } from "../../src/core/deployer.ts";
import { quietLog } from "../helpers/pipeline-doubles.ts";
import { cleanupAll } from "../helpers/cleanup.ts";

// deploy.release on the microvm deployer, for real: busybox images in the embedded registry (set
// up as in microvm-deploy.test.ts), a one-off release VM and the app VM in QEMU (TCG here).
const run = async (cmd: string, args: string[]) => (await promisify(execFile)(cmd, args)).stdout;
let base: BaseImages;
let registry: EmbeddedRegistry;
let deployer: MicroVmDeployer;
let dir: string;
const routes = new RouteTable({ domain: "localhost" });
const pids = new Set<number>();
const images: Record<string, string> = {};
const TOKEN = "s3cr3t-token-value";

/** An image whose CMD serves its tag on $PORT as `user`; its digest. */
async function pushImage(tag: string, user: string): Promise<string> {
  const oci = join(dir, "oci");
  const serve = "mkdir -p /tmp/www && echo \"hello $GREETING\" > /tmp/www/index.html && exec httpd -f -p \"$PORT\" -h /tmp/www";
  await run("umoci", ["config", "--image", `${oci}:busybox`, "--tag", tag, "--config.cmd", "sh", "--config.cmd", "-c", "--config.cmd", serve, "--config.user", user, "--config.env", `GREETING=${tag}`, "--config.workingdir", "/tmp"]);
  const creds = `${registry.auth!.username}:${registry.auth!.password}`;
  await run("skopeo", ["copy", "-q", "--dest-tls-verify=false", "--dest-creds", creds, `oci:${oci}:${tag}`, `docker://${registry.address}/octo/shop:${tag}`]);
  return (await run("skopeo", ["inspect", "--tls-verify=false", "--creds", creds, "--format", "{{.Digest}}", `docker://${registry.address}/octo/shop:${tag}`])).trim();
}

before(async () => {
  base = await ensureBaseImages();
  dir = await mkdtemp(join(tmpdir(), "ms-microvm-release-"));
  registry = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
  await run("skopeo", ["copy", "-q", "--src-tls-verify=false", `docker://${base.mirror}/busybox:latest`, `oci:${join(dir, "oci")}:busybox`]);
  images.v1 = await pushImage("v1", "nobody");
  images.v2 = await pushImage("v2", "0");
  deployer = new MicroVmDeployer({
    dataDir: join(CACHE, "microvm"), appDiskDir: join(dir, "app-disks"), stateDir: join(dir, "state"), routes, log: quietLog, registryAuth: registry.auth, insecureRegistries: [registry.address],
    healthTimeoutMs: 240_000, drainMs: 500, onVmStart: (pid) => pids.add(pid),
  });
  routes.listening(1);
}, { timeout: 600_000 });

after(() => cleanupAll(() => deployer?.close(), () => registry?.stop(), () => base?.stop(), () => dir && rm(dir, { recursive: true, force: true })));

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const target = { kind: "preview" as const, environment: "preview/pr-7", slug: "pr-7", transient: true, production: false };
const input = (tag: string, release: string, lines: string[], signal = new AbortController().signal): DeployInput => ({
  owner: "octo", repo: "shop", app: null, target, installationId: 77, sha: tag.padEnd(40, "0"), expiresAt: null, idleMinutes: null,
  imageRef: `${registry.address}/octo/shop@${images[tag]}`, digest: images[tag]!, port: 3000, health: "/index.html",
  env: { TOKEN }, signal, log: (l) => lines.push(l), release,
});
const served = async () => (await (await fetch(`http://127.0.0.1:${routes.get(deploymentName(input("v1", "", [])))!.port}/index.html`)).text());

test("a release that exits 0 runs before the app VM, as the image's user in its dir, with the env (masked in the log); the deploy proceeds", { timeout: 400_000 }, async () => {
  const lines: string[] = [];
  const release = "echo \"migrating with $TOKEN on $PORT\"; echo done > released; cat released; echo \"uid $(id -u) in $(pwd)\"";
  await deployer.deploy(input("v1", release, lines));
  const log = lines.join("\n");
  assert.match(log, /release \| migrating with \*\*\* on 3000\nrelease \| done\nrelease \| uid 65534 in \/tmp\nThe release command succeeded\.\nStarting microVM/);
  assert.doesNotMatch(log, new RegExp(TOKEN));
  assert.doesNotMatch(log, /microship-release-exit/, "the marker line is not shown");
  assert.equal(await served(), "hello v1\n");
  assert.equal([...pids].filter(alive).length, 1, "the release VM is gone; the app VM runs");
  const again: string[] = [];
  await deployer.deploy(input("v1", "echo must not run", again));
  assert.doesNotMatch(again.join("\n"), /release/, "the same instance already serving runs no release");
});

test("a root release that exits 3 and tries to forge its result fails the deploy; no app VM starts; the old one keeps serving", { timeout: 300_000 }, async () => {
  const lines: string[] = [];
  // As root it can look for the nonce on the config disk and write to every port and the console.
  const release = [
    "ls -a /config; N=$(cat /config/nonce 2>/dev/null)",
    "echo \"microship-release-exit $N 0\"",
    "for p in /dev/vport* /dev/console /dev/ttyS0; do echo \"microship-release-exit $N 0\" > $p; done 2>/dev/null",
    "echo \"failing with $TOKEN\"; exit 3",
  ].join("\n");
  const before = [...pids];
  await assert.rejects(deployer.deploy(input("v2", release, lines)), (err: Error & { kind?: string; title?: string }) => {
    assert.equal(err.kind, "user");
    assert.equal(err.title, "Release failed");
    assert.match(err.message, /failed with exit code 3\. The previous version keeps serving\./);
    assert.match(err.message, /failing with \*\*\*/);
    assert.doesNotMatch(err.message, new RegExp(TOKEN));
    return true;
  });
  assert.match(lines.join("\n"), /release \| microship-release-exit  0/, "the forged marker is plain output");
  assert.doesNotMatch(lines.join("\n"), /Starting microVM/);
  assert.equal(await served(), "hello v1\n");
  assert.equal([...pids].filter((p) => !before.includes(p)).length, 1, "only the release VM was started");
  assert.equal([...pids].filter(alive).length, 1);
});

test("cancelling the deploy kills the release VM", { timeout: 300_000 }, async () => {
  const lines: string[] = [];
  const ac = new AbortController();
  const before = [...pids];
  let settled = false;
  const deploying = deployer.deploy(input("v2", "echo started; sleep 600", lines, ac.signal)).finally(() => (settled = true));
  while (!settled && !lines.includes("release | started")) await new Promise((r) => setTimeout(r, 200));
  ac.abort(new Error("cancelled by the test"));
  await assert.rejects(deploying, /cancelled by the test/);
  const started = [...pids].filter((p) => !before.includes(p));
  assert.equal(started.length, 1);
  assert.equal(alive(started[0]!), false, "the release VM's QEMU is gone");
  assert.equal(await served(), "hello v1\n");
});

test("a release past its time limit is killed and fails the deploy; the old version keeps serving", { timeout: 300_000 }, async () => {
  const short = new MicroVmDeployer({
    dataDir: join(CACHE, "microvm"), appDiskDir: join(dir, "app-disks-short"), stateDir: join(dir, "state-short"), routes, log: quietLog, registryAuth: registry.auth, insecureRegistries: [registry.address],
    releaseTimeoutMs: 6_000, onVmStart: (pid) => pids.add(pid),
  });
  try {
    const before = [...pids];
    await assert.rejects(short.deploy(input("v2", "echo started; sleep 600", [])), /^MicroshipError: The release command `echo started; sleep 600` did not finish in 6 s\. The previous version keeps serving\./);
    assert.deepEqual([...pids].filter((p) => !before.includes(p)).filter(alive), [], "its QEMU is gone");
    assert.equal(await served(), "hello v1\n");
  } finally {
    await short.close();
  }
});
