import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { BuildInput, BuildOutput } from "../../core/builder.ts";
import type { OpLog } from "../../core/ports.ts";
import { infraError, type MicroshipError } from "../../core/errors.ts";
import { manifestInfo } from "../../registry/registry-client.ts";
import { registryHost } from "../../registry/registry-host.ts";
import { BuilderShell, type BuildBackend, type BuildIO } from "../builder-shell.ts";
import { detectAccelerator, type Accelerator } from "./accelerator.ts";
import { ensureVmImage, type VmImage } from "./vm-image.ts";
import { rootOverlay } from "./disks.ts";
import { FULL_SHARE, leaseLayerCache, type CacheUse } from "./layer-cache.ts";
import { qemuArgs, type HostForward, type VmDisks } from "./qemu-args.ts";
import { hostTscKhz } from "./host-tsc.ts";
import { runVm, type VmOutcome } from "./run-vm.ts";
import { EgressPolicy, parseEgressAllow } from "./egress-policy.ts";
import { hostForwards } from "./host-forwards.ts";
import { requireSocat, vmUser, type VmUserMode } from "./vm-user.ts";
import { stageBuild, type StagedBuild } from "./stage-build.ts";
import { noPlaces, releasePlaces } from "./vm-build-places.ts";
import { startVmEgress } from "./vm-egress.ts";
import { agentFailure, lostVm } from "./vm-failure.ts";

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

// Boot to "booted" takes about 2 s under TCG and well under 1 s with KVM; a minute is a stall.
const BOOT_TIMEOUT_MS = 60_000;
const BOOT_ATTEMPTS = 2;

/**
 * Builds inside our own QEMU microVM on this host (docs/design.md section 5): one VM per build, booted from
 * Debian's kernel and a builder root made from Debian packages, with the source, the config and a
 * scratch disk attached. The guest agent streams the log on the serial console and reports one
 * result line on its own port.
 */
export class MicroVmBuilder extends BuilderShell {
  readonly accelerator: Accelerator;
  private readonly vm: MicroVmBackend;

  constructor(o: MicroVmBuilderOptions) {
    const vm = new MicroVmBackend(o);
    super(vm);
    this.vm = vm;
    this.accelerator = vm.accelerator;
  }

  /** Builds the VM image now if it is missing (it is otherwise built by the first build). */
  prepare(): Promise<VmImage> {
    return this.vm.prepare();
  }
}

/** One boot of the build's VM, with what it needs besides the options. */
interface VmLaunch {
  input: BuildInput;
  io: BuildIO;
  image: VmImage;
  disks: VmDisks;
  sockDir: string;
  egressSocket: string;
  forwards: HostForward[];
  user: { uid: number; gid: number } | null;
}

class MicroVmBackend implements BuildBackend {
  readonly name = "microvm";
  readonly accelerator: Accelerator;
  private readonly tscKhz = hostTscKhz();
  private readonly o: MicroVmBuilderOptions;
  private readonly cpus: number;
  private readonly memoryMiB: number;
  private readonly diskMiB: number;
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

  async prepare(): Promise<VmImage> {
    this.image = await ensureVmImage({ dataDir: this.o.dataDir, progress: this.o.imageProgress });
    return this.image;
  }

  unexpected(err: unknown): MicroshipError {
    return infraError(`The microVM builder failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  async run(input: BuildInput, io: BuildIO): Promise<BuildOutput> {
    const places = noPlaces();
    try {
      if (!this.image) io.system("preparing the builder VM image (the first time takes a few minutes)");
      // A cancel must not wait for a first image build that takes minutes (it goes on for the next build).
      const image = await Promise.race([this.prepare(), aborted(input.signal)]);
      await requireSocat();
      const t0 = Date.now();
      const staged = await stageBuild(this.o.dataDir, input, places, this.o.insecureRegistries);
      const cache = (places.cache = await leaseLayerCache({ dir: join(this.o.dataDir, "microvm", "cache"), scope: input.cacheScope, noCache: input.noCache, scratch: staged.disks.scratch, sizeMiB: this.diskMiB }));
      io.system(CACHE_USE[cache.use](input.cacheScope));
      await rootOverlay(image.rootDisk, staged.disks.root);
      const user = vmUser(this.runAs);
      const egressSocket = await startVmEgress(places, { policy: this.policy, user, system: (t) => io.system(t) });
      const forwards = hostForwards(staged.config.registry_rewrites);
      input.signal.throwIfAborted();
      const launch = { input, io, image, disks: staged.disks, sockDir: places.sockDir!, egressSocket, forwards, user };
      const { outcome, limits } = await this.boot(launch);
      if (outcome.killedBy === "abort") throw input.signal.reason;
      const r = outcome.result;
      // Only a guest that reported and powered off by itself has unmounted the disk cleanly.
      if (r && outcome.killedBy === null) await cache.keep().catch((err) => this.o.log?.warn({ err, buildId: input.buildId }, "could not keep the layer cache"));
      if (!r) throw lostVm(outcome, limits, this.o.log, input.buildId);
      if (!r.success) throw agentFailure(r.error_kind ?? "infra", r.error ?? "the build failed", io.tail, input.timeoutSeconds);
      return await this.output(input, staged, r, t0);
    } finally {
      await releasePlaces(places);
    }
  }

  /** Boots the VM, and once more from a fresh root disk if the first never booted. */
  private async boot(l: VmLaunch): Promise<{ outcome: VmOutcome; limits: { deadlineMs: number; bootDeadlineMs: number; bootAttempts: number } }> {
    const limits = { deadlineMs: (l.input.timeoutSeconds + (this.o.graceSeconds ?? 60)) * 1000, bootDeadlineMs: this.o.bootTimeoutMs ?? BOOT_TIMEOUT_MS, bootAttempts: BOOT_ATTEMPTS };
    let outcome: VmOutcome | null = null;
    for (let attempt = 1; attempt <= BOOT_ATTEMPTS; attempt++) {
      if (attempt > 1) {
        this.o.log?.warn({ buildId: l.input.buildId, bootDeadlineMs: limits.bootDeadlineMs }, "builder VM did not boot in time; starting a fresh one");
        l.io.system(`the builder VM did not boot within ${Math.round(limits.bootDeadlineMs / 1000)} s; starting a fresh one`);
        await rm(l.disks.root, { force: true });
        await rootOverlay(l.image.rootDisk, l.disks.root);
      }
      l.io.system(`booting the builder VM (${this.accelerator.kind}, ${this.cpus} vCPUs, ${this.memoryMiB} MiB)`);
      outcome = await this.runOnce(l, limits, attempt);
      if (outcome.killedBy !== "boot") break;
    }
    if (!outcome) throw new Error("unreachable: no VM attempt");
    return { outcome, limits };
  }

  private runOnce(l: VmLaunch, limits: { deadlineMs: number; bootDeadlineMs: number }, attempt: number): Promise<VmOutcome> {
    const resultSocket = join(l.sockDir, "result.sock");
    const logSocket = join(l.sockDir, "log.sock");
    return runVm({
      args: qemuArgs({
        accel: this.accelerator.kind, cpus: this.cpus, memoryMiB: this.memoryMiB, kernel: l.image.kernel, initramfs: l.image.initramfs, disks: l.disks,
        resultSocket, logSocket, tscKhz: this.tscKhz, egressSocket: l.egressSocket, hostForwards: l.forwards, runAs: l.user,
      }),
      resultSocket,
      logSocket,
      onLine: (line) => l.io.line(line),
      signal: l.input.signal,
      deadlineMs: limits.deadlineMs,
      bootDeadlineMs: limits.bootDeadlineMs,
      onStart: (pid) => {
        this.o.log?.debug({ buildId: l.input.buildId, pid, attempt }, "builder VM started");
        this.o.onVmStart?.(pid, l.input.buildId);
      },
      onExtraResultLine: () => this.o.log?.warn({ buildId: l.input.buildId }, "the guest agent sent more than one result line; only the first counts"),
    });
  }

  private async output(input: BuildInput, staged: StagedBuild, r: NonNullable<VmOutcome["result"]>, t0: number): Promise<BuildOutput> {
    const digest = r.image_digest!;
    const size = await manifestInfo(registryHost(input.imageName), staged.config.image_name, digest, { auth: input.registryAuth }).then((m) => m?.sizeBytes ?? null, () => null);
    return {
      imageRef: `${input.imageName}@${digest}`,
      digest,
      tags: input.tags,
      sizeBytes: size,
      provenance: {
        sourceHash: input.source.sha256,
        lockfileHashes: staged.lockfiles,
        baseImageDigest: input.baseImageDigest ?? r.provenance?.base_image_digest ?? null,
        builderVersion: r.provenance?.builder_version ? `${r.provenance.builder_version} in a ${this.accelerator.kind} microVM` : `microvm (${this.accelerator.kind})`,
      },
      timings: { buildMs: r.build_ms ?? Date.now() - t0, pushMs: r.push_ms ?? 0 },
    };
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
