/**
 * microvm benchmark: where a build's time goes in our own microVM, against buildah on the host.
 * Run: node bench/microvm/run.ts [--runs N]. Results are written up in bench/microvm.md.
 *  1. the builder VM image: cold (a fresh data dir) and warm;
 *  2. per build: preparing the disks (until QEMU starts), boot to agent-ready, the build and push
 *     inside the VM, and the whole build, for a tiny busybox app;
 *  3. the same build with the host backend.
 */
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { c as tarCreate } from "tar";
import type { Builder, BuildInput, SourceArchive } from "../../src/core/builder.ts";
import { MicroVmBuilder } from "../../src/builder/microvm/microvm-builder.ts";
import { HostBuilder } from "../../src/builder/host/host-builder.ts";
import { ensureVmImage } from "../../src/builder/microvm/vm-image.ts";
import { startEmbeddedRegistry } from "../../src/registry/embedded-registry.ts";
import { ensureBaseImages, CACHE } from "../../test/helpers/base-images.ts";
import { quietLog } from "../../test/helpers/pipeline-doubles.ts";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 3;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = await mkdtemp(join(tmpdir(), "ms-bench-microvm-"));
const base = await ensureBaseImages();
const registry = await startEmbeddedRegistry({ dataDir: join(dir, "registry"), log: quietLog });
const report: string[] = [];
try {
  // 1. VM image, cold then warm, in a data dir of its own (the kernel .deb and Debian's packages
  // come from apt's cache when the host has them).
  const coldDir = join(dir, "vm-cold");
  let t0 = Date.now();
  const cold = await ensureVmImage({ dataDir: coldDir, progress: (l) => process.stderr.write(`${l}\n`) });
  const coldMs = Date.now() - t0;
  t0 = Date.now();
  await ensureVmImage({ dataDir: coldDir, progress: () => {} });
  const warmMs = Date.now() - t0;
  report.push(`VM image: cold ${s(coldMs)} (built: ${cold.built}), warm ${warmMs} ms; kernel ${cold.kernelVersion}.`);

  const source = await tinyApp(dir);
  const vm = new MicroVmBuilder({ dataDir: join(CACHE, "microvm"), log: quietLog });
  await vm.prepare();
  report.push(`Accelerator: ${vm.accelerator.kind} (${vm.accelerator.reason}).`, "");
  const host = new HostBuilder({ dir: join(CACHE, "host-builder") });
  const rows: Record<string, number[]> = { disks: [], boot: [], inside: [], vmTotal: [], hostTotal: [] };
  for (let i = 0; i < runs; i++) {
    const marks = await timeBuild(vm, source, `${registry.address}/bench/microvm`);
    rows.disks!.push(marks.booting - marks.start);
    rows.boot!.push(marks.ready - marks.booting);
    rows.inside!.push(marks.end - marks.ready);
    rows.vmTotal!.push(marks.end - marks.start);
    const h = await timeBuild(host, source, `${registry.address}/bench/host`);
    rows.hostTotal!.push(h.end - h.start);
  }
  report.push(
    `Tiny build (busybox base, COPY, one RUN, no cache), median of ${runs}:`, "",
    "| phase | microvm | host |", "|---|---|---|",
    `| disks and config (until QEMU starts) | ${s(median(rows.disks!))} | – |`,
    `| boot to agent-ready | ${s(median(rows.boot!))} | – |`,
    `| build and push | ${s(median(rows.inside!))} | – |`,
    `| whole build | ${s(median(rows.vmTotal!))} | ${s(median(rows.hostTotal!))} |`,
  );
  console.log(report.join("\n"));
} finally {
  await registry.stop();
  await base.stop();
  await rm(dir, { recursive: true, force: true });
}

async function timeBuild(builder: Builder, source: SourceArchive, imageName: string): Promise<{ start: number; booting: number; ready: number; end: number }> {
  const id = `b${Date.now().toString(36)}`;
  const input: BuildInput = {
    buildId: id, source, imageName, tags: [id], buildArgs: {}, cacheScope: "bench/tiny", untrusted: false, registryAuth: registry.auth, noCache: true, timeoutSeconds: 600,
    dockerfile: `FROM ${base.mirror}/busybox:latest\nCOPY hello.txt /hello.txt\nRUN echo ${id} >> /hello.txt\nCMD ["cat", "/hello.txt"]\n`,
    secrets: [], runtime: null, baseImageDigest: null, signal: new AbortController().signal,
  };
  const start = Date.now();
  let booting = start;
  let ready = start;
  const handle = builder.build(input);
  const drained = (async () => {
    for await (const l of handle.logs) {
      if (l.text.startsWith("booting the builder VM")) booting = Date.now();
      if (l.text === "microship-agent: ready") ready = Date.now();
    }
  })();
  await handle.result;
  const end = Date.now();
  await drained;
  return { start, booting, ready, end };
}

async function tinyApp(root: string): Promise<SourceArchive> {
  const app = join(root, "app");
  mkdirSync(app);
  writeFileSync(join(app, "hello.txt"), "hello\n");
  const path = join(root, "app.tar.gz");
  await tarCreate({ gzip: true, cwd: app, file: path, portable: true }, ["hello.txt"]);
  return { open: () => createReadStream(path), path, sha256: createHash("sha256").update(readFileSync(path)).digest("hex"), sizeBytes: statSync(path).size, fileCount: 1 };
}
