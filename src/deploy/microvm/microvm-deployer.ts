import type { Deployer, DeployInput, DeploymentKey, DeployResult, InstanceKey, LiveDeployment } from "../../core/deployer.ts";
import type { OpLog, RegistryCredential } from "../../core/ports.ts";
import { detectAccelerator, type Accelerator } from "../../builder/microvm/accelerator.ts";
import { EgressPolicy, parseEgressAllow } from "../../builder/microvm/egress-policy.ts";
import { hostTscKhz } from "../../builder/microvm/host-tsc.ts";
import { ensureVmImage } from "../../builder/microvm/vm-image.ts";
import { requireSocat, vmUser, type VmUserMode } from "../../builder/microvm/vm-user.ts";
import type { RouteTable } from "../proxy/route-table.ts";
import { ensureAppDisk } from "./app-disk.ts";
import { deploymentName, vmInstanceName } from "./deployment-name.ts";
import { startDeployVm } from "./deploy-vm.ts";
import { waitHealthy } from "./health-wait.ts";
import { runScript } from "./run-script.ts";
import { PreviewSleeper } from "./preview-sleeper.ts";
import { healthFailure, type VmRecord } from "./vm-record.ts";

export interface MicroVmDeployerOptions {
  /** The microvm builder's data dir: the VM image is shared; app disks go to <dataDir>/deploy/images. */
  dataDir: string;
  /** Where app disks are kept, one per image digest (default <dataDir>/deploy/images). */
  appDiskDir?: string;
  /** microship's proxy routes (src/deploy/proxy/route-table.ts). */
  routes: RouteTable;
  log?: OpLog;
  /** To pull from the embedded registry; null for MICROSHIP_REGISTRY (the host's own auth then). */
  registryAuth?: RegistryCredential | null;
  insecureRegistries?: string[];
  accelerator?: string;
  /** Per app VM (default 1 vCPU, 1024 MiB). */
  cpus?: number;
  memoryMiB?: number;
  /** MICROSHIP_EGRESS_ALLOW, as for builds. */
  egressAllow?: string;
  runAs?: VmUserMode;
  /** How long a new version may take to answer its health path (default 300 s: TCG boots are slow). */
  healthTimeoutMs?: number;
  bootTimeoutMs?: number;
  /** How long the old VM keeps serving the requests it has after the route moved (default 2 s). */
  drainMs?: number;
  imageProgress?: (line: string) => void;
  onVmStart?: (pid: number, instance: string) => void;
  /** How often previews are checked for idleness (default 60 s), and the wait after a failed wake (default 30 s). */
  idleCheckMs?: number;
  wakeBackoffMs?: number;
}

/**
 * Runs each deployment in QEMU microVMs on this host (docs/design.md section 6): the image becomes
 * a root disk booted with the builder VM's kernel and init, behind the builder's network rules;
 * microship's own HTTP server proxies `{name}.{domain}` to the VM's loopback port. A new digest is
 * a new VM: started beside the old, health-checked, then the route moves and the old one stops.
 * What runs is recorded only here, in memory: VMs don't outlive microship (close() stops them).
 */
export class MicroVmDeployer implements Deployer {
  readonly name = "microvm";
  readonly accelerator: Accelerator;
  private readonly o: MicroVmDeployerOptions;
  private readonly policy: EgressPolicy;
  private readonly tscKhz = hostTscKhz();
  private readonly vms = new Map<string, VmRecord>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private closed = false;
  // Each VM's env, kept in memory only to start a sleeping preview again as it was.
  private readonly envs = new Map<string, Record<string, string>>();
  private readonly shutdown = new AbortController();
  private readonly sleeper: PreviewSleeper;

  constructor(o: MicroVmDeployerOptions) {
    this.o = o;
    this.accelerator = detectAccelerator({ override: o.accelerator });
    this.policy = new EgressPolicy(parseEgressAllow(o.egressAllow ?? ""));
    this.sleeper = new PreviewSleeper({
      routes: o.routes, log: o.log, records: () => this.vms.values(), serial: (name, fn) => this.serial(name, fn),
      putToSleep: (rec) => this.putToSleep(rec), wake: (rec) => this.wakeRecord(rec),
    }, { checkEveryMs: o.idleCheckMs, wakeBackoffMs: o.wakeBackoffMs });
  }

  /** Puts idle previews to sleep now (the timer does it every idleCheckMs). */
  checkIdle(): Promise<void> {
    return this.sleeper.checkIdle();
  }

  /** A writer's sleep and wake (the dashboard), by the sleeper's own paths: the idle check's, a request's. */
  readonly sleep = (key: InstanceKey) => this.sleeper.sleepNow(key);
  readonly wake = (key: InstanceKey, signal: AbortSignal) => this.sleeper.wakeNow(key, signal);

  describe(): string {
    return `QEMU microvm on this host, ${this.accelerator.reason}; deployments answer at ${this.o.routes.url("{name}")}`;
  }

  deploy(input: DeployInput): Promise<DeployResult> {
    const name = deploymentName(input);
    // One deploy of a name at a time: a second waits, then finds the first's VM (idempotent).
    return this.serial(name, () => this.deployNow(input, name));
  }

  private serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(name) ?? Promise.resolve()).catch(() => undefined).then(fn);
    this.locks.set(name, run);
    void run.finally(() => this.locks.get(name) === run && this.locks.delete(name)).catch(() => undefined);
    return run;
  }

  private async deployNow(input: DeployInput, name: string): Promise<DeployResult> {
    if (this.closed) throw new Error("the microvm deployer is shutting down");
    // Said, not skipped in silence: a migration the user expects must not quietly not happen.
    if (input.release) input.log(`Warning: the release command (${input.release.slice(0, 200)}) is not run by the microvm deployer yet; the new version starts without it.`);
    const instance = vmInstanceName(name, input.digest);
    const same = this.vms.get(instance);
    if (same && same.state === "running" && this.o.routes.get(name)?.instance === instance) {
      const h = await waitHealthy({ port: same.vm.hostPort, path: input.health, timeoutMs: 10_000, signal: input.signal, exited: same.vm.exited });
      if (h.ok) {
        input.log(`${instance} already serves this image.`);
        return { url: this.o.routes.url(name), instance, replaced: await this.retire(name, instance) };
      }
    }
    if (same) await this.stopOne(same);
    const rec = await this.start(input, name, instance);
    this.o.routes.set({ name, instance, port: rec.vm.hostPort });
    rec.state = "running";
    const replaced = await this.retire(name, instance);
    input.log(replaced.length > 0 ? `Traffic moved to ${instance}; stopped ${replaced.join(", ")}.` : `${instance} serves ${this.o.routes.url(name)}.`);
    return { url: this.o.routes.url(name), instance, replaced };
  }

  /** Boots the new VM and waits for its health path; on any failure only this VM is stopped. */
  private async start(input: DeployInput, name: string, instance: string): Promise<VmRecord> {
    const image = await ensureVmImage({ dataDir: this.o.dataDir, progress: this.o.imageProgress });
    await requireSocat();
    input.log(`Converting ${input.imageRef} to a VM disk.`);
    const disk = await ensureAppDisk({ dir: this.o.appDiskDir ?? `${this.o.dataDir}/deploy/images`, imageRef: input.imageRef, digest: input.digest, auth: this.o.registryAuth ?? null, insecureRegistries: this.o.insecureRegistries ?? [] });
    const script = runScript(disk.runtime, input.env, input.port);
    const cpus = this.o.cpus ?? 1;
    const memoryMiB = this.o.memoryMiB ?? 1024;
    input.log(`Starting microVM ${instance} (${this.accelerator.kind}, ${cpus} vCPU, ${memoryMiB} MiB).`);
    input.signal.throwIfAborted();
    const vm = await startDeployVm({
      image, accel: this.accelerator.kind, cpus, memoryMiB, tscKhz: this.tscKhz, rootDisk: disk.rootDisk, runScript: script, guestPort: input.port,
      policy: this.policy, user: vmUser(this.o.runAs ?? "per-build"), bootTimeoutMs: this.o.bootTimeoutMs ?? 60_000,
      onStart: (pid) => this.o.onVmStart?.(pid, instance),
    });
    const { signal: _s, log: _l, env: _e, ...identity } = input;
    const rec: VmRecord = { ...identity, name, instance, vm, createdAt: new Date(), state: "starting", stopping: false };
    this.vms.set(instance, rec);
    this.envs.set(instance, input.env);
    void vm.exited.then(() => this.exited(rec), () => this.exited(rec));
    try {
      const h = await waitHealthy({ port: vm.hostPort, path: input.health, timeoutMs: this.o.healthTimeoutMs ?? 300_000, signal: input.signal, exited: vm.exited });
      if (!h.ok) throw healthFailure(input, h.why, vm.tail());
      return rec;
    } catch (err) {
      await this.stopOne(rec);
      throw err;
    }
  }

  /** Stops the name's other VMs once the requests they still hold have had drainMs to finish. */
  private async retire(name: string, keep: string): Promise<string[]> {
    const old = [...this.vms.values()].filter((r) => r.name === name && r.instance !== keep);
    if (old.length === 0) return [];
    await new Promise((r) => setTimeout(r, this.o.drainMs ?? 2_000));
    await Promise.all(old.map((r) => this.stopOne(r)));
    return old.map((r) => r.instance);
  }

  /** The VM stops (its app disk stays); the record and a sleeping route stay for a request to wake it. */
  private async putToSleep(rec: VmRecord): Promise<void> {
    rec.stopping = true;
    rec.state = "sleeping";
    this.o.routes.sleep(rec.name, rec.instance);
    await rec.vm.stop();
  }

  /** Boots a sleeping record's image again with its env; on failure it stays asleep, as it was. */
  private async wakeRecord(rec: VmRecord): Promise<void> {
    if (this.closed) throw new Error("the microvm deployer is shutting down");
    const { name, instance, vm: _v, createdAt, state: _st, stopping: _sp, ...identity } = rec;
    const env = this.envs.get(instance) ?? {};
    const input: DeployInput = {
      ...identity, env, signal: this.shutdown.signal,
      log: (line) => this.o.log?.info({ instance }, line.slice(0, 500)),
    };
    try {
      const fresh = await this.start(input, name, instance);
      fresh.createdAt = createdAt;
      this.o.routes.set({ name, instance, port: fresh.vm.hostPort });
      fresh.state = "running";
    } catch (err) {
      // start() dropped the failed VM's record and route: the sleeping ones come back for the next try.
      if (!this.closed && !this.vms.has(instance)) {
        this.vms.set(instance, rec);
        this.envs.set(instance, env);
        if (!this.o.routes.get(name)) this.o.routes.set({ name, instance, port: 0, sleeping: true });
      }
      throw err;
    }
  }

  private async stopOne(rec: VmRecord): Promise<void> {
    rec.stopping = true;
    this.o.routes.remove(rec.name, rec.instance);
    if (this.vms.get(rec.instance) === rec) {
      this.vms.delete(rec.instance);
      this.envs.delete(rec.instance);
    }
    await rec.vm.stop();
  }

  /** A VM that ended by itself (the app exited, the guest crashed): its route goes, it shows as failed. */
  private exited(rec: VmRecord): void {
    if (rec.stopping) return;
    rec.state = "failed";
    this.o.routes.remove(rec.name, rec.instance);
    this.o.log?.warn({ instance: rec.instance, tail: rec.vm.tail().slice(-1000) }, "a deploy VM stopped by itself");
  }

  async list(filter: { owner: string; repo: string } | null, _signal: AbortSignal): Promise<LiveDeployment[]> {
    return [...this.vms.values()]
      .filter((r) => !filter || (r.owner === filter.owner && r.repo === filter.repo))
      .map((r) => ({
        owner: r.owner, repo: r.repo, app: r.app, target: r.target, installationId: r.installationId, sha: r.sha, instance: r.instance,
        url: this.o.routes.url(r.name), imageRef: r.imageRef, digest: r.digest, createdAt: r.createdAt, expiresAt: r.expiresAt, state: r.state,
      }));
  }

  async teardown(key: Omit<DeploymentKey, "app">, _signal: AbortSignal): Promise<number> {
    const mine = [...this.vms.values()].filter((r) => r.owner === key.owner && r.repo === key.repo && r.target.slug === key.target.slug);
    await Promise.all(mine.map((r) => this.stopOne(r)));
    return mine.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sleeper.close();
    this.shutdown.abort(new Error("the microvm deployer is shutting down"));
    await Promise.all([...this.vms.values()].map((r) => this.stopOne(r)));
  }
}
