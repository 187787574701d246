/**
 * Deploy benchmark (docs/design.md section 6). Measures, on this host:
 *  1. push to preview URL answering, split into build (host buildah by default, also the microvm
 *     builder with --vm-build), image conversion (OCI image -> ext4 app disk), boot (until the
 *     guest init says "booted") and health (booted -> the app's first 2xx), then the first
 *     answer through the deploy proxy;
 *  2. requests per second through the deploy proxy against straight to the VM's forwarded port,
 *     and, to show the proxy's own ceiling, the same against a server on the host.
 * Run: node bench/deploy/run.ts [--runs N] [--vm-build] [--duration S]. Written up in bench/deploy.md.
 * The deploy steps are the microvm deployer's own (ensureAppDisk, runScript, startDeployVm,
 * waitHealthy), called one by one so each can be timed; the deployer adds only bookkeeping.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { c as tarCreate } from "tar";
import type { Builder, BuildInput, SourceArchive } from "../../src/core/builder.ts";
import { HostBuilder } from "../../src/builder/host/host-builder.ts";
import { MicroVmBuilder } from "../../src/builder/microvm/microvm-builder.ts";
import { detectAccelerator } from "../../src/builder/microvm/accelerator.ts";
import { EgressPolicy, parseEgressAllow } from "../../src/builder/microvm/egress-policy.ts";
import { hostTscKhz } from "../../src/builder/microvm/host-tsc.ts";
import { ensureVmImage } from "../../src/builder/microvm/vm-image.ts";
import { vmUser } from "../../src/builder/microvm/vm-user.ts";
import { ensureAppDisk } from "../../src/deploy/microvm/app-disk.ts";
import { runScript } from "../../src/deploy/microvm/run-script.ts";
import { startDeployVm, type DeployVm } from "../../src/deploy/microvm/deploy-vm.ts";
import { waitHealthy } from "../../src/deploy/microvm/health-wait.ts";
import { RouteTable } from "../../src/deploy/proxy/route-table.ts";
import { createDeployProxy } from "../../src/deploy/proxy/deploy-proxy.ts";
import { startEmbeddedRegistry } from "../../src/registry/embedded-registry.ts";
import { ensureBaseImages, CACHE } from "../../test/helpers/base-images.ts";
import { quietLog } from "../../test/helpers/pipeline-doubles.ts";

const arg = (name: string, dflt: number) => Number(process.argv[process.argv.indexOf(name) + 1]) || dflt;
const runs = arg("--runs", 3);
const duration = arg("--duration", 10);
const vmBuild = process.argv.includes("--vm-build");
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const PORT = 3000;

const dir = await mkdtemp(join(tmpdir(), "ms-bench-deploy-"));
const base = await ensureBaseImages();
const registry = await startEmbeddedRegistry({ dataDir: join(dir, "registry"), log: quietLog });
const routes = new RouteTable({ domain: "localhost" });
const proxy = createDeployProxy(routes);
const front = createServer((req, res) => proxy.handle(req, res, () => res.end("microship's own page")));
await new Promise<void>((ok) => front.listen(0, "127.0.0.1", ok));
routes.listening((front.address() as AddressInfo).port);
const frontPort = (front.address() as AddressInfo).port;
const accel = detectAccelerator({});
const report: string[] = [`Accelerator: ${accel.kind} (${accel.reason}).`, ""];
let vm: DeployVm | null = null;
let hostApp: { port: number; kill(): void } | null = null;
try {
  const image = await ensureVmImage({ dataDir: join(CACHE, "microvm") });
  const source = await httpdApp(dir);
  const builders: Array<[string, Builder]> = [["host", new HostBuilder({ dir: join(CACHE, "host-builder") })]];
  if (vmBuild) {
    const b = new MicroVmBuilder({ dataDir: join(CACHE, "microvm"), log: quietLog });
    await b.prepare();
    builders.push(["microvm", b]);
  }
  const rows: Record<string, number[]> = { convert: [], spawn: [], boot: [], health: [], first: [] };
  const buildMs: Record<string, number[]> = {};
  for (let i = 0; i < runs; i++) {
    let built = { imageRef: "", digest: "" };
    for (const [name, b] of builders) {
      const t = Date.now();
      built = await build(b, source, `${registry.address}/bench/${name}`);
      (buildMs[name] ??= []).push(Date.now() - t);
    }
    // A fresh disk dir each run: conversion is per digest and cached, and the build is no-cache anyway.
    let t = Date.now();
    const disk = await ensureAppDisk({ dir: join(dir, `disks-${i}`), imageRef: built.imageRef, digest: built.digest, auth: registry.auth, insecureRegistries: [registry.address] });
    rows.convert!.push(Date.now() - t);
    t = Date.now();
    let spawned = 0;
    vm = await startDeployVm({
      image, accel: accel.kind, cpus: 1, memoryMiB: 1024, tscKhz: hostTscKhz(), rootDisk: disk.rootDisk, runScript: runScript(disk.runtime, {}, PORT), guestPort: PORT,
      policy: new EgressPolicy(parseEgressAllow("")), user: vmUser("per-build"), bootTimeoutMs: 120_000, onStart: () => (spawned = Date.now()),
    });
    const health = waitHealthy({ port: vm.hostPort, path: "/", timeoutMs: 300_000, signal: new AbortController().signal, exited: vm.exited, pollMs: 50 }).then((h) => ({ h, at: Date.now() }));
    let booted = 0;
    for (const until = Date.now() + 300_000; !booted && Date.now() < until; await sleep(20)) if (/^microvm: booted in /m.test(vm.tail())) booted = Date.now();
    const { h, at } = await health;
    if (!h.ok || !booted) throw new Error(`the VM did not come up: ${h.ok ? "no booted line" : h.why}\n${vm.tail()}`);
    routes.set({ name: "pr-1-app", instance: `run-${i}`, port: vm.hostPort });
    const answer = await getVia(frontPort, `pr-1-app.localhost:${frontPort}`);
    if (!answer.includes("hello")) throw new Error(`the proxy answered ${answer.slice(0, 200)}`);
    const done = Date.now();
    rows.spawn!.push(spawned - t);
    rows.boot!.push(booted - t);
    rows.health!.push(at - booted);
    rows.first!.push(done - at);
    process.stderr.write(`run ${i + 1}: ${Object.entries(buildMs).map(([k, v]) => `${k} build ${s(v.at(-1)!)}`).join(", ")}, convert ${s(rows.convert!.at(-1)!)}, boot ${s(booted - t)}, health ${s(at - booted)}\n`);
    if (i < runs - 1) { await vm.stop(); vm = null; routes.remove("pr-1-app", `run-${i}`); }
  }
  const sum = (b: string) => median(buildMs[b]!) + median(rows.convert!) + median(rows.boot!) + median(rows.health!) + median(rows.first!);
  report.push(
    `Push to preview URL (tiny busybox httpd app, no build cache), median of ${runs}:`, "",
    `| phase | ${builders.map(([n]) => `${n} build`).join(" | ")} |`, `|---|${builders.map(() => "---|").join("")}`,
    `| build and push | ${builders.map(([n]) => s(median(buildMs[n]!))).join(" | ")} |`,
    `| image conversion (pull, unpack, ext4) | ${s(median(rows.convert!))} |`,
    `| VM start: overlay, config disk, QEMU spawned | ${s(median(rows.spawn!))} |`,
    `| boot (until the init's "booted" line; includes the row above) | ${s(median(rows.boot!))} |`,
    `| health (booted -> first 2xx, polled every 50 ms) | ${s(median(rows.health!))} |`,
    `| route set -> first answer through the proxy | ${s(median(rows.first!))} |`,
    `| **sum of medians** | ${builders.map(([n]) => `**${s(sum(n))}**`).join(" | ")} |`, "",
  );
  // In its own process: in the proxy's, serving would take the proxy's CPU and halve its ceiling.
  hostApp = await hostServer();
  routes.set({ name: "host-app", instance: "host", port: hostApp.port });
  report.push(`Requests per second, closed loop, ${duration} s timed after 2 s warm-up (load generator in its own process):`, "",
    "| backend | connections | direct rps | via proxy rps | proxy / direct | direct p50 / p99 | proxy p50 / p99 | errors (direct / proxy) |", "|---|---|---|---|---|---|---|---|");
  for (const [label, port, host] of [["app in the microVM (busybox httpd)", vm!.hostPort, `pr-1-app.localhost:${frontPort}`], ["node server on the host, own process", hostApp.port, `host-app.localhost:${frontPort}`]] as const) {
    // The VM is stopped first: a TCG guest, even idle, takes a core the proxy's ceiling would be measured without.
    if (label.startsWith("node")) { await vm!.stop(); vm = null; }
    for (const connections of [1, 8]) {
      const direct = await load({ port, host: `127.0.0.1:${port}`, path: "/", connections, duration, warmup: 2 });
      const via = await load({ port: frontPort, host, path: "/", connections, duration, warmup: 2 });
      report.push(`| ${label} | ${connections} | ${direct.rps} | ${via.rps} | ${Math.round((100 * via.rps) / Math.max(1, direct.rps))}% | ${direct.p50} / ${direct.p99} ms | ${via.p50} / ${via.p99} ms | ${direct.errors} / ${via.errors} |`);
    }
  }
  console.log(report.join("\n"));
} finally {
  await vm?.stop();
  hostApp?.kill();
  await proxy.close();
  front.close();
  await registry.stop();
  await base.stop();
  await rm(dir, { recursive: true, force: true });
}

function hostServer(): Promise<{ port: number; kill(): void }> {
  const code = `const s = require("node:http").createServer((q, r) => r.end("hello from the host\\n")); s.listen(0, "127.0.0.1", () => console.log(s.address().port));`;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
    p.stdout!.once("data", (c) => resolve({ port: Number(String(c).trim()), kill: () => p.kill() }));
    p.once("exit", (code) => reject(new Error(`the host server exited ${code}`)));
  });
}

/** fetch() sets Host itself; the proxy routes on it. */
function getVia(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", headers: { host }, timeout: 30_000 }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

function load(o: object): Promise<{ ok: number; errors: number; rps: number; p50: number; p99: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [new URL("./load-child.ts", import.meta.url).pathname, JSON.stringify(o)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout!.on("data", (c) => (out += c));
    p.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load-child exited ${code}`))));
  });
}

async function build(builder: Builder, source: SourceArchive, imageName: string): Promise<{ imageRef: string; digest: string }> {
  const id = `d${Date.now().toString(36)}`;
  const input: BuildInput = {
    buildId: id, source, imageName, tags: [id], buildArgs: {}, cacheScope: "bench/deploy", untrusted: false, registryAuth: registry.auth, noCache: true, timeoutSeconds: 900,
    dockerfile: `FROM ${base.mirror}/busybox:latest\nCOPY index.html /www/index.html\nRUN echo ${id} >> /www/index.html\nUSER nobody\nCMD ["sh", "-c", "exec httpd -f -p \\"$PORT\\" -h /www"]\n`,
    secrets: [], runtime: null, baseImageDigest: null, signal: new AbortController().signal,
  };
  const handle = builder.build(input);
  const drained = (async () => { for await (const _ of handle.logs); })();
  const out = await handle.result;
  await drained;
  return out;
}

async function httpdApp(root: string): Promise<SourceArchive> {
  const app = join(root, "app");
  mkdirSync(app);
  writeFileSync(join(app, "index.html"), "hello from the preview\n");
  const path = join(root, "app.tar.gz");
  await tarCreate({ gzip: true, cwd: app, file: path, portable: true }, ["index.html"]);
  return { open: () => createReadStream(path), path, sha256: createHash("sha256").update(readFileSync(path)).digest("hex"), sizeBytes: statSync(path).size, fileCount: 1 };
}
