import { cancelledError } from "../errors.ts";
import type { Store } from "../store.ts";
import type { DeploymentKey } from "../deployer.ts";

/** Frees a lock; safe to call twice. */
export type Unlock = () => Promise<void>;

/** The lock's name for one deployment: an app's target in one repository (case folded as GitHub folds names). */
export function deploymentLockName(key: Pick<DeploymentKey, "owner" | "repo" | "app"> & { target: { slug: string } }): string {
  return `microship:deploy:${key.owner}/${key.repo}/${key.app ?? ""}/${key.target.slug}`.toLowerCase();
}

/**
 * Never two deploys of one deployment at once: a lock per name, first among this process's
 * workers (a queue per name), then across replicas through the store's `tryLock` when it has one
 * (Postgres: a session advisory lock, which a killed process's connection drops with it).
 * Waiting polls the store instead of blocking in it, so a wait is bounded by the build's signal,
 * not by a statement timeout.
 */
export class DeploymentLocks {
  private readonly local = new Map<string, Promise<void>>();
  private readonly store: Pick<Store, "tryLock"> | null;
  private readonly pollMs: number;

  constructor(store: Pick<Store, "tryLock"> | null, o: { pollMs?: number } = {}) {
    this.store = store;
    this.pollMs = o.pollMs ?? 1_000;
  }

  /** Waits for the lock; `waiting` is told once when another holds it. */
  async acquire(name: string, signal: AbortSignal, waiting?: () => void): Promise<Unlock> {
    let told = false;
    const tell = () => {
      if (!told) waiting?.();
      told = true;
    };
    const releaseLocal = await this.takeLocal(name, signal, tell);
    try {
      for (;;) {
        const remote = this.store?.tryLock ? await this.store.tryLock(name) : async () => {};
        if (remote) return once(async () => {
          try { await remote(); } finally { releaseLocal(); }
        });
        tell();
        await pause(this.pollMs, signal);
      }
    } catch (err) {
      releaseLocal();
      throw err;
    }
  }

  /** The lock if it is free now, else null: for work that can wait for its next turn (the reconciler). */
  async tryAcquire(name: string): Promise<Unlock | null> {
    if (this.local.has(name)) return null;
    let free!: () => void;
    this.local.set(name, new Promise<void>((r) => (free = r)));
    const releaseLocal = () => {
      this.local.delete(name);
      free();
    };
    try {
      const remote = this.store?.tryLock ? await this.store.tryLock(name) : async () => {};
      if (!remote) {
        releaseLocal();
        return null;
      }
      return once(async () => {
        try { await remote(); } finally { releaseLocal(); }
      });
    } catch (err) {
      releaseLocal();
      throw err;
    }
  }

  private async takeLocal(name: string, signal: AbortSignal, tell: () => void): Promise<() => void> {
    for (;;) {
      if (signal.aborted) throw signal.reason ?? cancelledError("The deploy was cancelled.");
      const held = this.local.get(name);
      if (!held) break;
      tell();
      await Promise.race([held, aborted(signal)]);
    }
    let free!: () => void;
    this.local.set(name, new Promise<void>((r) => (free = r)));
    return () => {
      this.local.delete(name);
      free();
    };
  }
}

function once(fn: () => Promise<void>): Unlock {
  let done: Promise<void> | null = null;
  return () => (done ??= fn());
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason ?? cancelledError("The deploy was cancelled."));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, ms);
    function stop() {
      clearTimeout(t);
      reject(signal.reason ?? cancelledError("The deploy was cancelled."));
    }
    signal.addEventListener("abort", stop, { once: true });
  });
}
