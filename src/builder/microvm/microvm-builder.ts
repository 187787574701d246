import { chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { x as untar } from "tar";
import type { Builder, BuildHandle, BuildInput, BuildOutput, LogLine } from "../../core/builder.ts";
import type { OpLog } from "../../core/ports.ts";
import { LogChannel } from "../log-lines.ts";
import { cancelledError, infraError, isMicroshipError, timeoutError, userError, type MicroshipError } from "../../core/errors.ts";
import { budFailure } from "../buildah/bud-failure.ts";
import { lockfileHashes } from "../buildah/provenance.ts";
import { manifestInfo } from "../../registry/registry-client.ts";
import { registryHost } from "../../registry/registry-host.ts";
import { detectAccelerator, type Accelerator } from "./accelerator.ts";
import { ensureVmImage, type VmImage } from "./vm-image.ts";
import { ext4FromDir, rootOverlay } from "./disks.ts";
import { FULL_SHARE, leaseLayerCache, type CacheUse, type LayerCacheLease } from "./layer-cache.ts";
import { guestBuildConfig } from "./guest-config.ts";
import { qemuArgs } from "./qemu-args.ts";
import { hostTscKhz } from "./host-tsc.ts";
import { runVm, type VmOutcome } from "./run-vm.ts";
import { EgressPolicy, parseEgressAllow } from "./egress-policy.ts";
import { startEgressProxy, type EgressProxy } from "./egress-proxy.ts";
import { hostForwards } from "./host-forwards.ts";
import { requireSocat, vmUser, type VmUserMode } from "./vm-user.ts";

export interface MicroVmBuilderOptions {
  /** MICROSHIP_DATA_DIR: the VM image lives in <dataDir>/vm, per-build disks in <dataDir>/microvm. */
  dataDir: string;
  log?: OpLog;
  /** Hypeman's defaults: 2 vCPUs, 2 GiB. */
  cpus?: number;
  memoryMiB?: number;
  /** The scratch disk for buildah's storage (sparse: only what a build writes costs space). */
  diskMiB?: number;
  /**
   * Registries reached over plain HTTP. Loopback ones (the embedded registry, the base-image
   * mirror) are also the only services of the host's loopback a build can reach.
   */
  insecureRegistries?: string[];
  /** MICROSHIP_EGRESS_ALLOW: private ranges and endpoints the guest may reach (egress-policy.ts). */
  egressAllow?: string;
  /** MICROSHIP_MICROVM_RUNAS: "per-build" (default) runs each QEMU as its own unprivileged uid; "off" keeps root. */
  runAs?: VmUserMode;
  /** "kvm" or "tcg" forces the accelerator (MICROSHIP_MICROVM_ACCEL); otherwise it is detected. */
  accelerator?: string;
  /** Added to a build's timeout for the boot and the push before QEMU is killed (default 60 s). */
  graceSeconds?: number;
  /** How long a VM may take to boot before a fresh one is tried (default 60 s). */
  bootTimeoutMs?: number;
  /** Where the first VM image build reports its progress (default: stderr). */
  imageProgress?: (line: string) => void;
  /** Tests and benchmarks see each QEMU process. */
  onVmStart?: (pid: number, buildId: string) => void;
}

// Enough of the log's end to name the failing step and buildah's error.
const TAIL_LINES = 200;
// Boot to "booted" takes about 2 s under TCG and well under 1 s with KVM; a minute is a stall.
const BOOT_TIMEOUT_MS = 60_000;
const BOOT_ATTEMPTS = 2;
// A build that probes the network could fill its log with refusals; the first few say enough.
const REFUSALS_SHOWN = 20;

/**
 * Builds inside our own QEMU microVM on this host (DESIGN.md 6.2): one VM per build, booted from
 * Debian's kernel and a builder root made from Debian packages, with the source, the config and a
 * scratch disk attached. The guest agent streams the log on the serial console and reports one
 * result line on its own port.
 */
export class MicroVmBuilder implements Builder {
  readonly name = "microvm";
  readonly accelerator: Accelerator;
  private readonly tscKhz = hostTscKhz();
  private readonly o: MicroVmBuilderOptions;
  private readonly cpus: number;
  private readonly memoryMiB: number;
  private readonly diskMiB: number;
  private readonly running = new Set<AbortController>();
  private readonly policy: EgressPolicy;
  private readonly runAs: VmUserMode;
  private image: VmImage | null = null;

  constructor(o: MicroVmBuilderOptions) {
    this.o = o;
    this.cpus = o.cpus ?? 2;
    this.memoryMiB = o.memoryMiB ?? 2048;
    this.diskMiB = o.diskMiB ?? 10_240;
    this.accelerator = detectAccelerator({ override: o.accelerator ?? process.env.MICROSHIP_MICROVM_ACCEL });
    this.policy = new EgressPolicy(parseEgressAllow(o.egressAllow ?? ""));
    this.runAs = o.runAs ?? "per-build";
    if (this.policy.allow.text) o.log?.info({ egressAllow: this.policy.allow.text }, "microvm builder: builds may also reach these private addresses");
    o.log?.info({ accelerator: this.accelerator.kind, reason: this.accelerator.reason }, `microvm builder: ${this.accelerator.reason}`);
  }

  describe(): string {
    const kernel = this.image ? `, Debian kernel ${this.image.kernelVersion}` : "";
    return `QEMU microvm, ${this.accelerator.reason}; ${this.cpus} vCPUs, ${this.memoryMiB} MiB${kernel}; buildah inside the VM`;
  }

  /** Builds the VM image now if it is missing (it is otherwise built by the first build). */
  async prepare(): Promise<VmImage> {
    this.image = await ensureVmImage({ dataDir: this.o.dataDir, progress: this.o.imageProgress });
    return this.image;
  }

  build(input: BuildInput): BuildHandle {
    const logs = new LogChannel();
    const result = this.run(input, logs).finally(() => logs.close());
    return { logs, result };
  }

  async close(): Promise<void> {
    for (const c of this.running) c.abort(cancelledError("The builder is shutting down."));
  }

  private async run(input: BuildInput, logs: LogChannel): Promise<BuildOutput> {
    const stop = new AbortController();
    const onAbort = () => stop.abort(cancelledError("The build was cancelled.", { title: "Build cancelled" }));
    if (input.signal.aborted) onAbort();
    else input.signal.addEventListener("abort", onAbort, { once: true });
    this.running.add(stop);
    const tail: LogLine[] = [];
    const onLine = (l: LogLine) => {
      tail.push(l);
      if (tail.length > TAIL_LINES) tail.shift();
      logs.push(l);
    };
    let work: string | null = null;
    let sockDir: string | null = null;
    let netDir: string | null = null;
    let proxy: EgressProxy | null = null;
    let cache: LayerCacheLease | null = null;
    try {
      if (!this.image) logs.system("preparing the builder VM image (the first time takes a few minutes)");
      // A cancel must not wait for a first image build that takes minutes (it goes on for the next build).
      const image = await Promise.race([this.prepare(), aborted(stop.signal)]);
      await requireSocat();
      const t0 = Date.now();
      await mkdir(join(this.o.dataDir, "microvm"), { recursive: true });
      work = await mkdtemp(join(this.o.dataDir, "microvm", "build-"));
      // A unix socket path must stay under ~100 bytes, which a deep data dir can exceed.
      sockDir = await mkdtemp(join(tmpdir(), "msvm-"));
      const src = join(work, "src");
      await mkdir(src);
      await untar({ file: input.source.path, cwd: src, strict: true, preservePaths: false });
      const lockfiles = await lockfileHashes(src);
      const config = guestBuildConfig(input, { insecureRegistries: this.o.insecureRegistries });
      const cfgDir = join(work, "config");
      await mkdir(cfgDir, { mode: 0o700 });
      await writeFile(join(cfgDir, "build.json"), JSON.stringify(config), { mode: 0o600 });
      const disks = { root: join(work, "root.qcow2"), source: join(work, "src.ext4"), config: join(work, "config.ext4"), scratch: join(work, "scratch.ext4") };
      await ext4FromDir(src, disks.source, { label: "src", extraMiB: 64 });
      await ext4FromDir(cfgDir, disks.config, { label: "config" });
      // The secrets now live only on the config disk, which goes with the work dir.
      await rm(cfgDir, { recursive: true, force: true });
      await rm(src, { recursive: true, force: true });
      cache = await leaseLayerCache({ dir: join(this.o.dataDir, "microvm", "cache"), scope: input.cacheScope, noCache: input.noCache, scratch: disks.scratch, sizeMiB: this.diskMiB });
      logs.system(CACHE_USE[cache.use](input.cacheScope));
      await rootOverlay(image.rootDisk, disks.root);
      const user = vmUser(this.runAs);
      // The proxy's socket sits in a directory of its own that only this VM's user can enter.
      netDir = await mkdtemp(join(tmpdir(), "msvm-net-"));
      const egressSocket = join(netDir, "egress.sock");
      let refused = 0;
      proxy = await startEgressProxy({
        listen: egressSocket,
        policy: this.policy,
        onRefused: (target, why) => {
          if (++refused <= REFUSALS_SHOWN) logs.system(`network: refused ${target}: ${why}`);
          if (refused === REFUSALS_SHOWN + 1) logs.system("network: more connections were refused; not showing them");
        },
      });
      if (user) {
        await chown(netDir, user.uid, user.gid);
        await chown(egressSocket, user.uid, user.gid);
      }
      const forwards = hostForwards(config.registry_rewrites);
      if (stop.signal.aborted) throw stop.signal.reason;

      const deadlineMs = (input.timeoutSeconds + (this.o.graceSeconds ?? 60)) * 1000;
      const bootDeadlineMs = this.o.bootTimeoutMs ?? BOOT_TIMEOUT_MS;
      let outcome: VmOutcome | null = null;
      for (let attempt = 1; attempt <= BOOT_ATTEMPTS; attempt++) {
        if (attempt > 1) {
          this.o.log?.warn({ buildId: input.buildId, bootDeadlineMs }, "builder VM did not boot in time; starting a fresh one");
          logs.system(`the builder VM did not boot within ${Math.round(bootDeadlineMs / 1000)} s; starting a fresh one`);
          await rm(disks.root, { force: true });
          await rootOverlay(image.rootDisk, disks.root);
        }
        logs.system(`booting the builder VM (${this.accelerator.kind}, ${this.cpus} vCPUs, ${this.memoryMiB} MiB)`);
        outcome = await runVm({
          args: qemuArgs({
            accel: this.accelerator.kind, cpus: this.cpus, memoryMiB: this.memoryMiB, kernel: image.kernel, initramfs: image.initramfs, disks,
            resultSocket: join(sockDir, "result.sock"), logSocket: join(sockDir, "log.sock"), tscKhz: this.tscKhz,
            egressSocket, hostForwards: forwards, runAs: user,
          }),
          resultSocket: join(sockDir, "result.sock"),
          logSocket: join(sockDir, "log.sock"),
          onLine,
          signal: stop.signal,
          deadlineMs,
          bootDeadlineMs,
          onStart: (pid) => {
            this.o.log?.debug({ buildId: input.buildId, pid, attempt }, "builder VM started");
            this.o.onVmStart?.(pid, input.buildId);
          },
          onExtraResultLine: () => this.o.log?.warn({ buildId: input.buildId }, "the guest agent sent more than one result line; only the first counts"),
        });
        if (outcome.killedBy !== "boot") break;
      }
      if (!outcome) throw new Error("unreachable: no VM attempt");
      if (outcome.killedBy === "abort") throw stop.signal.reason;
      const r = outcome.result;
      // Only a guest that reported and powered off by itself has unmounted the disk cleanly.
      if (r && outcome.killedBy === null) await cache.keep().catch((err) => this.o.log?.warn({ err, buildId: input.buildId }, "could not keep the layer cache"));
      if (!r) throw lostVm(outcome, { deadlineMs, bootDeadlineMs }, this.o.log, input.buildId);
      if (!r.success) throw agentFailure(r.error_kind ?? "infra", r.error ?? "the build failed", tail, input.timeoutSeconds);
      const digest = r.image_digest!;
      const repo = config.image_name;
      const registry = registryHost(input.imageName);
      const size = await manifestInfo(registry, repo, digest, { auth: input.registryAuth }).then((m) => m?.sizeBytes ?? null, () => null);
      return {
        imageRef: `${input.imageName}@${digest}`,
        digest,
        tags: input.tags,
        sizeBytes: size,
        provenance: {
          sourceHash: input.source.sha256,
          lockfileHashes: lockfiles,
          baseImageDigest: input.baseImageDigest ?? r.provenance?.base_image_digest ?? null,
          builderVersion: r.provenance?.builder_version ? `${r.provenance.builder_version} in a ${this.accelerator.kind} microVM` : `microvm (${this.accelerator.kind})`,
        },
        timings: { buildMs: r.build_ms ?? Date.now() - t0, pushMs: r.push_ms ?? 0 },
      };
    } catch (err) {
      if (stop.signal.aborted) throw stop.signal.reason;
      if (isMicroshipError(err)) throw err;
      throw infraError(`The microVM builder failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      input.signal.removeEventListener("abort", onAbort);
      this.running.delete(stop);
      await cache?.release();
      await proxy?.close();
      if (work) await rm(work, { recursive: true, force: true });
      if (sockDir) await rm(sockDir, { recursive: true, force: true });
      if (netDir) await rm(netDir, { recursive: true, force: true });
    }
  }
}

const CACHE_USE: Record<CacheUse, (scope: string) => string> = {
  reused: (s) => `layer cache of ${s}: reused from an earlier build`,
  empty: (s) => `layer cache of ${s}: none yet; this build starts it`,
  busy: (s) => `layer cache of ${s}: another build holds it; building without it`,
  reset: (s) => `layer cache of ${s}: dropped, as --no-cache asks; this build starts a new one`,
  full: (s) => `layer cache of ${s}: it had filled ${FULL_SHARE * 100}% of the VM disk; starting a new one`,
};

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

function agentFailure(kind: "user" | "infra" | "timeout", error: string, tail: readonly LogLine[], timeoutSeconds: number): MicroshipError {
  if (kind === "timeout") {
    return timeoutError(`The build took longer than its ${timeoutSeconds} s limit.`, {
      title: `Build timed out after ${timeoutSeconds} s`,
      hint: "Make the build faster, or raise `timeout` in .github/microship.yml.",
    });
  }
  if (kind === "user") {
    const e = budFailure(tail, /status (\d+)/.exec(error)?.[1] ? Number(/status (\d+)/.exec(error)![1]) : null);
    return e.kind === "user" || e.kind === "infra" ? e : userError(error);
  }
  return infraError(`The builder VM reported: ${error}`, { title: "Builder VM failed" });
}

/** The VM ended, or was killed at the deadline, without a result: never the repo's fault. */
function lostVm(outcome: VmOutcome, limits: { deadlineMs: number; bootDeadlineMs: number }, log: OpLog | undefined, buildId: string): MicroshipError {
  log?.error({ buildId, exitCode: outcome.exitCode, killedBy: outcome.killedBy, problem: outcome.problem, qemu: outcome.stderrTail }, "builder VM ended without a result");
  if (outcome.problem) return infraError(`The builder VM sent an invalid result: ${outcome.problem}.`, { title: "Builder VM failed" });
  if (outcome.killedBy === "boot") {
    return infraError(`The builder VM did not boot within ${Math.round(limits.bootDeadlineMs / 1000)} s, ${BOOT_ATTEMPTS} times, and was stopped.`, { title: "Builder VM did not boot", hint: "This is a fault of the build host, not of the repository; the operator has been told." });
  }
  if (outcome.killedBy === "deadline") {
    return infraError(`The builder VM did not report within ${Math.round(limits.deadlineMs / 1000)} s and was stopped.`, { title: "Builder VM hung", hint: "This is a fault of the build host, not of the repository; the operator has been told." });
  }
  return infraError(`The builder VM stopped without reporting a result (QEMU exit ${outcome.exitCode ?? "by signal"}).`, {
    title: "Builder VM died",
    hint: "This is a fault of the build host, not of the repository; the operator has been told.",
  });
}
