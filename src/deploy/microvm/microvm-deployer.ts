import type { Deployer, DeployInput, DeploymentKey, DeployResult, InstanceKey, LiveDeployment } from "../../core/deployer.ts";
import { detectAccelerator, type Accelerator } from "../../builder/microvm/accelerator.ts";
import { EgressPolicy, parseEgressAllow } from "../../builder/microvm/egress-policy.ts";
import { hostTscKhz } from "../../builder/microvm/host-tsc.ts";
import { ensureVmImage } from "../../builder/microvm/vm-image.ts";
import { requireSocat, vmUser } from "../../builder/microvm/vm-user.ts";
import type { MicroVmDeployerOptions } from "./microvm-deployer-options.ts";
import { ensureAppDisk } from "./app-disk.ts";
import { deploymentName, vmInstanceName } from "./deployment-name.ts";
import { freshGeneration } from "../../core/deploy/instance-name.ts";
import { startDeployVm } from "./deploy-vm.ts";
import { waitHealthy } from "./health-wait.ts";
import { runScript } from "./run-script.ts";
import { PreviewSleeper } from "./preview-sleeper.ts";
import { runReleaseVm } from "./release-vm.ts";
import { healthFailure, liveOf, type VmRecord } from "./vm-record.ts";
import { VmPersistence } from "./vm-persistence.ts";

export type { MicroVmDeployerOptions } from "./microvm-deployer-options.ts";

/**
 * Runs each deployment in QEMU microVMs on this host (docs/design.md section 6): the image becomes
 * a root disk booted with the builder VM's kernel and init, behind the builder's network rules;
 * microship's own HTTP server proxies `{name}.{domain}` to the VM's loopback port. A new digest is
 * a new VM: started beside the old, health-checked, then the route moves and the old one stops.
 * Records are also kept on disk (vm-persistence.ts): close() stops VMs, the next start restores them.
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
  private readonly persist: VmPersistence;
  /** Settles once a previous microship's stale QEMUs and unused disks are gone. */ readonly restored: Promise<void>;

  constructor(o: MicroVmDeployerOptions) {
    this.o = o;
    this.accelerator = detectAccelerator({ override: o.accelerator });
    this.policy = new EgressPolicy(parseEgressAllow(o.egressAllow ?? ""));
    // First: it takes the state dir or throws (another process has it), before a timer starts.
    this.persist = new VmPersistence({ stateDir: o.stateDir ?? `${o.dataDir}/deploy/state`, appDiskDir: o.appDiskDir ?? `${o.dataDir}/deploy/images`, log: o.log },
      { vms: this.vms, envs: this.envs, routes: o.routes, serial: (name, fn) => this.serial(name, fn) });
    this.sleeper = new PreviewSleeper({
      routes: o.routes, log: o.log, records: () => this.vms.values(), serial: (name, fn) => this.serial(name, fn),
      putToSleep: (rec) => this.putToSleep(rec), wake: (rec) => this.wakeRecord(rec),
    }, { checkEveryMs: o.idleCheckMs, wakeBackoffMs: o.wakeBackoffMs });
    this.restored = this.persist.restore();
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
    // A redeploy (fresh) gets a name of its own, so the serving VM keeps serving until it is healthy.
    const instance = input.fresh ? vmInstanceName(name, freshGeneration(input.digest)) : vmInstanceName(name, input.digest);
    const same = this.vms.get(instance);
    if (same && same.state === "running" && this.o.routes.get(name)?.instance === instance) {
      const h = await waitHealthy({ port: same.vm.hostPort, path: input.health, timeoutMs: 10_000, signal: input.signal, exited: same.vm.exited });
      if (h.ok) {
        input.log(`${instance} already serves this image.`);
        return { url: this.o.routes.url(name), instance, replaced: await this.retire(name, instance) };
      }
    }
    if (same) await this.stopOne(same);
    const rec = await this.start(input, name, instance, input.release);
    this.o.routes.set({ name, instance, port: rec.vm.hostPort });
    rec.state = "running";
    void this.persist.save(rec);
    const replaced = await this.retire(name, instance);
    input.log(replaced.length > 0 ? `Traffic moved to ${instance}; stopped ${replaced.join(", ")}.` : `${instance} serves ${this.o.routes.url(name)}.`);
    return { url: this.o.routes.url(name), instance, replaced };
  }

  /** Runs `release` (a new image only, never on wake), boots the new VM and waits for its health path; on any failure only this VM is stopped. */
  private async start(input: DeployInput, name: string, instance: string, release?: string): Promise<VmRecord> {
    return this.persist.holding(input.digest, () => this.boot(input, name, instance, release));
  }

  private async boot(input: DeployInput, name: string, instance: string, release?: string): Promise<VmRecord> {
    const image = await ensureVmImage({ dataDir: this.o.dataDir, progress: this.o.imageProgress });
    await requireSocat();
    input.log(`Converting ${input.imageRef} to a VM disk.`);
    const disk = await ensureAppDisk({ dir: this.o.appDiskDir ?? `${this.o.dataDir}/deploy/images`, imageRef: input.imageRef, digest: input.digest, auth: this.o.registryAuth ?? null, insecureRegistries: this.o.insecureRegistries ?? [] });
    const script = runScript(disk.runtime, input.env, input.port);
    const cpus = this.o.cpus ?? 1;
    const memoryMiB = this.o.memoryMiB ?? 1024;
    const vmOptions = {
      image, accel: this.accelerator.kind, cpus, memoryMiB, tscKhz: this.tscKhz, rootDisk: disk.rootDisk, guestPort: input.port,
      policy: this.policy, user: vmUser(this.o.runAs ?? "per-build"), bootTimeoutMs: this.o.bootTimeoutMs ?? 60_000,
      onStart: (pid: number) => this.o.onVmStart?.(pid, instance),
    };
    if (release) {
      const signal = AbortSignal.any([input.signal, this.shutdown.signal]);
      await runReleaseVm({ vm: vmOptions, runtime: disk.runtime, input: { ...input, release }, signal, timeoutMs: this.o.releaseTimeoutMs });
    }
    input.log(`Starting microVM ${instance} (${this.accelerator.kind}, ${cpus} vCPU, ${memoryMiB} MiB).`);
    input.signal.throwIfAborted();
    const vm = await startDeployVm({ ...vmOptions, runScript: script });
    const { signal: _s, log: _l, env: _e, ...identity } = input;
    const rec: VmRecord = { ...identity, name, instance, vm, createdAt: new Date(), state: "starting", stopping: false };
    this.vms.set(instance, rec);
    this.envs.set(instance, input.env);
    void this.persist.save(rec);
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
    await this.persist.collectDisks();
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
      void this.persist.save(fresh);
    } catch (err) {
      // start() dropped the failed VM's record and route: the sleeping ones come back for the next try.
      if (!this.closed && !this.vms.has(instance)) {
        this.vms.set(instance, rec);
        this.envs.set(instance, env);
        void this.persist.save(rec);
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
    // Gone for good unless microship is stopping (the next start brings it back) or it starts again.
    if (!this.closed && !this.vms.has(rec.instance)) await this.persist.forget(rec.instance);
  }

  /** A VM that ended by itself (the app exited, the guest crashed): its route goes, it shows as failed. */
  private exited(rec: VmRecord): void {
    if (rec.stopping) return;
    rec.state = "failed";
    this.o.routes.remove(rec.name, rec.instance);
    this.o.log?.warn({ instance: rec.instance, tail: rec.vm.tail().slice(-1000) }, "a deploy VM stopped by itself");
  }

  async list(filter: { owner: string; repo: string } | null, _signal: AbortSignal): Promise<LiveDeployment[]> {
    return [...this.vms.values()].filter((r) => !filter || (r.owner === filter.owner && r.repo === filter.repo)).map((r) => liveOf(r, this.o.routes.url(r.name)));
  }

  async teardown(key: Omit<DeploymentKey, "app">, _signal: AbortSignal): Promise<number> {
    const names = new Set([...this.vms.values()].filter((r) => r.owner === key.owner && r.repo === key.repo && r.target.slug === key.target.slug).map((r) => r.name));
    // Under each name's lock: a wake booting meanwhile would otherwise finish after us and leave a VM running.
    const counts = await Promise.all([...names].map((name) => this.serial(name, async () => {
      const mine = [...this.vms.values()].filter((r) => r.name === name);
      await Promise.all(mine.map((r) => this.stopOne(r)));
      return mine.length;
    })));
    await this.persist.collectDisks();
    return counts.reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sleeper.close();
    this.shutdown.abort(new Error("the microvm deployer is shutting down"));
    await Promise.all([...this.vms.values()].map((r) => this.stopOne(r)));
    // The restore's cleanup and the last writes finish before another process may take the dir.
    await this.restored.catch(() => undefined);
    await this.persist.flush();
    this.persist.release();
  }
}
