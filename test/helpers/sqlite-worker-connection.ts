import { Worker } from "node:worker_threads";
import type { Store } from "../../src/core/store.ts";
import type { Queue } from "../../src/core/queue.ts";
import type { StoreQueueConnection } from "./store-queue-contract/contract-case.ts";

type Pending = { resolve(value: unknown): void; reject(err: Error): void };

/**
 * A Store and a Queue over the SQLite file at `path`, opened in a worker thread of their own
 * (see sqlite-connection-worker.ts): a second process's connection, without a second process.
 */
export async function sqliteWorkerConnection(path: string): Promise<StoreQueueConnection> {
  const worker = new Worker(new URL("./sqlite-connection-worker.ts", import.meta.url), { workerData: { path } });
  const pending = new Map<number, Pending>();
  let next = 0;
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on("message", (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.ok) p?.resolve(m.value);
    else p?.reject(new Error(`in the worker connection: ${m.error}`));
  });
  worker.on("error", failAll);
  worker.on("exit", (code) => failAll(new Error(`the worker connection exited (${code})`)));
  const call = (target: string, method: string, args: unknown[]) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, target, method, args });
    });
  // "then" stays undefined, so awaiting the proxy itself does not call into the worker.
  const proxy = <T>(target: string) =>
    new Proxy({}, { get: (_, method) => (typeof method === "string" && method !== "then" ? (...args: unknown[]) => call(target, method, args) : undefined) }) as T;
  return {
    store: proxy<Store>("store"),
    queue: proxy<Queue>("queue"),
    async close() {
      await call("store", "close", []);
      await worker.terminate();
    },
  };
}
