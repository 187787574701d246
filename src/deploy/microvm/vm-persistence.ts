import type { OpLog } from "../../core/ports.ts";
import type { RouteTable } from "../proxy/route-table.ts";
import { AppDiskCollector } from "./app-disk-gc.ts";
import { killStaleQemu, qemuIdentity, removeVmDirs } from "./stale-qemu.ts";
import { chooseRestored, savedOf, sleepingRecord } from "./vm-restore.ts";
import { lockStateDir, type StateDirLock } from "./state-dir-lock.ts";
import { VmStateStore, type LoadedVm } from "./vm-state-store.ts";
import type { VmRecord } from "./vm-record.ts";

/** The deployer's state this keeps on disk, and its per-name lock. */
export interface PersistedDeployer {
  vms: Map<string, VmRecord>;
  envs: Map<string, Record<string, string>>;
  routes: RouteTable;
  serial<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export interface VmPersistenceOptions {
  stateDir: string;
  appDiskDir: string;
  log?: OpLog;
}

/**
 * The microvm deployer's records on disk (vm-state-store.ts) and its app disks' collection
 * (app-disk-gc.ts): a VM's file is written when it starts and when it serves, removed when it is
 * retired or torn down, and kept when microship stops, so restore() brings every deployment back
 * asleep. An environment is woken at once; a preview waits for its first request.
 */
export class VmPersistence {
  readonly store: VmStateStore;
  readonly disks: AppDiskCollector;
  private readonly lock: StateDirLock;
  private readonly d: PersistedDeployer;
  private readonly log?: OpLog;

  constructor(o: VmPersistenceOptions, d: PersistedDeployer) {
    this.d = d;
    this.log = o.log;
    this.store = new VmStateStore({ dir: o.stateDir, log: o.log });
    // One process owns the state dir (and the app disks beside it): two would restore, kill
    // "stale" QEMUs and collect disks under each other. A second one refuses to start.
    this.lock = lockStateDir(o.stateDir, o.log);
    this.disks = new AppDiskCollector(o.appDiskDir, o.log);
    try {
      this.disks.setAsideLeftovers();
    } catch (err) {
      this.lock.release();
      throw err;
    }
  }

  /** Gives up the state dir (close(), once its last write is done); idempotent. */
  release(): void {
    this.lock.release();
  }

  /** Writes the record as it is now (with its env and, once known, its QEMU's pid and start time). */
  save(rec: VmRecord): Promise<void> {
    const env = this.d.envs.get(rec.instance) ?? {};
    const now = { ...rec };
    return this.store.saveWith(rec.instance, async () => {
      const pid = await now.vm.pid;
      const id = pid ? qemuIdentity(pid) : null;
      return { saved: savedOf(now, id && { ...id, dirs: [...now.vm.dirs] }), env };
    });
  }

  /** The VM is gone for good (retired, torn down, failed its start): its file goes. */
  forget(instance: string): Promise<void> {
    return this.store.remove(instance);
  }

  /** A deploy's or a wake's digest: its disk is not collected from before it is made until the record that uses it exists. */
  async holding<T>(digest: string, fn: () => Promise<T>): Promise<T> {
    const release = this.disks.hold(digest);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Removes the app disks no record uses (after a retire, a teardown, and at start). */
  collectDisks(): Promise<number> {
    return this.disks.collect(() => [...this.d.vms.values()].map((r) => r.digest)).catch((err: unknown) => {
      this.log?.warn({ err: String(err).slice(0, 500) }, "collecting unused app disks failed");
      return 0;
    });
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  /**
   * Loads the state (synchronously: list() shows every deployment as soon as the deployer exists)
   * with sleeping routes; then, in the background, kills the QEMUs a killed microship left
   * running, drops the records that lost (chooseRestored), wakes environments and collects disks.
   */
  restore(): Promise<void> {
    const { keep, drop } = chooseRestored(this.store.loadAll());
    for (const { saved, env } of keep) {
      this.d.vms.set(saved.instance, sleepingRecord(saved));
      this.d.envs.set(saved.instance, env);
      this.d.routes.set({ name: saved.name, instance: saved.instance, port: 0, sleeping: true });
    }
    if (keep.length + drop.length > 0) this.log?.info({ restored: keep.length, dropped: drop.length }, "deployments restored asleep from the deploy state");
    return this.afterRestore(keep, drop);
  }

  private async afterRestore(keep: LoadedVm[], drop: LoadedVm[]): Promise<void> {
    await Promise.all([...keep, ...drop].map((l) => this.d.serial(l.saved.name, async () => {
      if (l.saved.qemu && (await killStaleQemu(l.saved.qemu))) {
        this.log?.warn({ instance: l.saved.instance, pid: l.saved.qemu.pid }, "killed a deploy VM's QEMU that a previous microship left running");
        // Only then: after a graceful stop they are gone, and a new VM could by chance have the name now.
        await removeVmDirs(l.saved.qemu.dirs ?? []);
      }
      if (drop.includes(l)) await this.store.remove(l.saved.instance);
    }).catch((err: unknown) => this.log?.warn({ instance: l.saved.instance, err: String(err).slice(0, 500) }, "cleaning up after a previous microship failed"))));
    for (const { saved } of keep) {
      const route = this.d.routes.get(saved.name);
      // A production site must not wait for its first visitor; the sleeper's wake path boots it.
      if (saved.target.kind !== "preview" && route?.sleeping && route.instance === saved.instance) this.d.routes.wake(saved.name);
    }
    await this.collectDisks();
  }
}
