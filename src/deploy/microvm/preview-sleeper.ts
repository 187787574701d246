import { InstanceNotFoundError, type InstanceKey, type LiveDeployment } from "../../core/deployer.ts";
import { userError } from "../../core/errors.ts";
import type { OpLog } from "../../core/ports.ts";
import type { RouteTable, WakeStatus } from "../proxy/route-table.ts";
import type { VmRecord } from "./vm-record.ts";

/** What the sleeper needs of the deployer: its records, its per-name lock, and a way to boot a record again. */
export interface SleeperHost {
  routes: RouteTable;
  log?: OpLog;
  records(): Iterable<VmRecord>;
  /** Runs fn under the name's deploy lock, so a wake and a deploy of one name never overlap. */
  serial<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Stops the VM and keeps its record and (sleeping) route. */
  putToSleep(rec: VmRecord): Promise<void>;
  /** Boots the sleeping record's image again with its env; healthy, its route serves it. */
  wake(rec: VmRecord): Promise<void>;
}

export interface SleeperOptions {
  /** How often idle routes are looked for (default 60 s). */
  checkEveryMs?: number;
  /** After a failed wake, how long requests get the error page before the next try (default 30 s). */
  wakeBackoffMs?: number;
}

/**
 * Previews sleep: a running preview whose route had no request for its idleMinutes has its VM stopped
 * (its disk stays); the first request to it starts the VM again. One wake per name at a time; a wake
 * that fails is logged and not tried again before the backoff. The clock is the route table's.
 */
export class PreviewSleeper {
  private readonly h: SleeperHost;
  private readonly backoffMs: number;
  private readonly timer: NodeJS.Timeout;
  // One wake per name: a request and a writer's Wake share it.
  private readonly waking = new Map<string, Promise<void>>();
  private readonly failedAt = new Map<string, number>();
  private checking: Promise<void> | null = null;

  constructor(h: SleeperHost, o: SleeperOptions = {}) {
    this.h = h;
    this.backoffMs = o.wakeBackoffMs ?? 30_000;
    this.timer = setInterval(() => void this.checkIdle(), o.checkEveryMs ?? 60_000);
    this.timer.unref();
    h.routes.waker = (name) => this.wakeRequested(name);
  }

  /** Puts every idle preview to sleep; the timer calls it, tests may too. One check at a time. */
  checkIdle(): Promise<void> {
    this.checking ??= this.checkNow().finally(() => (this.checking = null));
    return this.checking;
  }

  private async checkNow(): Promise<void> {
    const now = this.h.routes.now();
    // A failed wake's mark goes with its route: the map holds no more than the routes there are.
    for (const name of this.failedAt.keys()) if (!this.h.routes.get(name)) this.failedAt.delete(name);
    const idle = [...this.h.records()].filter((r) => {
      if (r.state !== "running" || r.idleMinutes === null || r.idleMinutes <= 0) return false;
      const route = this.h.routes.get(r.name);
      const last = this.h.routes.lastRequestAt(r.name);
      return route?.instance === r.instance && !route.sleeping && last !== null && now - last >= r.idleMinutes * 60_000;
    });
    await Promise.all(idle.map((r) => this.h.serial(r.name, async () => {
      // Checked again under the lock: a deploy or a request may have come meanwhile.
      const last = this.h.routes.lastRequestAt(r.name);
      if (r.state !== "running" || last === null || this.h.routes.now() - last < (r.idleMinutes ?? 0) * 60_000) return;
      await this.h.putToSleep(r);
      this.h.log?.info({ instance: r.instance, idleMinutes: r.idleMinutes }, "a preview was put to sleep");
    }).catch((err: unknown) => this.h.log?.warn({ instance: r.instance, err: String(err) }, "putting a preview to sleep failed"))));
  }

  private wakeRequested(name: string): WakeStatus {
    if (this.waking.has(name)) return { kind: "waking" };
    const failed = this.failedAt.get(name);
    const now = this.h.routes.now();
    if (failed !== undefined && now - failed < this.backoffMs) return { kind: "failed", retryInS: Math.ceil((this.backoffMs - (now - failed)) / 1000) };
    const route = this.h.routes.get(name);
    const rec = route?.sleeping ? [...this.h.records()].find((r) => r.instance === route.instance && r.state === "sleeping") : undefined;
    if (!rec) return { kind: "waking" };
    void this.startWake(name, rec).catch(() => undefined);
    return { kind: "waking" };
  }

  /** Boots the sleeping record under the name's lock, unless a deploy or another wake came first; failures are logged and start the backoff. */
  private startWake(name: string, rec: VmRecord): Promise<void> {
    const going = this.waking.get(name);
    if (going) return going;
    const run = this.h.serial(name, async () => {
      const still = this.h.routes.get(name);
      if (still?.sleeping && still.instance === rec.instance && rec.state === "sleeping") await this.h.wake(rec);
    }).then(() => void this.failedAt.delete(name), (err: unknown) => {
      this.failedAt.set(name, this.h.routes.now());
      this.h.log?.warn({ instance: rec.instance, err: err instanceof Error ? err.message.slice(0, 2000) : String(err) }, "a sleeping preview did not wake up");
      throw err;
    }).finally(() => this.waking.delete(name));
    this.waking.set(name, run);
    return run;
  }

  /** The record list() reports as `key.instance`, of that repository; none: InstanceNotFoundError. */
  private record(key: InstanceKey): VmRecord {
    const rec = [...this.h.records()].find((r) => r.instance === key.instance && r.owner === key.owner && r.repo === key.repo);
    if (!rec) throw new InstanceNotFoundError(key);
    return rec;
  }

  /**
   * A writer's sleep (the dashboard): what the idle check does, whatever the idle time and for an
   * environment too; the next request or a Wake starts it again. Asleep already: left so.
   */
  async sleepNow(key: InstanceKey): Promise<LiveDeployment["state"]> {
    const rec = this.record(key);
    return this.h.serial(rec.name, async () => {
      // Looked up again under the lock: a deploy or a teardown may have come meanwhile.
      const now = this.record(key);
      if (now.state === "sleeping") return now.state;
      if (now.state !== "running" || this.h.routes.get(now.name)?.instance !== now.instance) throw userError(`${now.instance} is ${now.state === "running" ? "not serving its route" : now.state}; only a running instance can sleep.`);
      await this.h.putToSleep(now);
      this.h.log?.info({ instance: now.instance }, "an instance was put to sleep from the dashboard");
      return now.state;
    });
  }

  /**
   * A writer's wake: the same wake a request starts (one per name, under its lock), whatever a
   * failed wake's backoff. Awake already: left so. The signal ends the wait ("starting" then), not the wake.
   */
  async wakeNow(key: InstanceKey, signal: AbortSignal): Promise<LiveDeployment["state"]> {
    const rec = this.record(key);
    if (rec.state === "running" || rec.state === "starting") return rec.state;
    if (rec.state !== "sleeping") throw userError(`${rec.instance} is ${rec.state}; only a sleeping instance can wake up. Deploy it again instead.`);
    this.failedAt.delete(rec.name);
    const woke = this.startWake(rec.name, rec).then(() => true);
    // Past the wait the wake goes on, and its failure is logged there, not left unhandled here.
    woke.catch(() => undefined);
    const ended = await Promise.race([woke, abortion(signal)]);
    return ended ? this.record(key).state : "starting";
  }

  close(): void {
    clearInterval(this.timer);
    if (this.h.routes.waker) this.h.routes.waker = null;
  }
}

/** Resolves false when the signal aborts (at once if it has); never rejects. */
function abortion(signal: AbortSignal): Promise<false> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(false), { once: true }));
}
