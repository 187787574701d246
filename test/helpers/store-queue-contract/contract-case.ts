import assert from "node:assert/strict";
import type { Store, SubmitResult } from "../../../src/core/store.ts";
import type { Queue } from "../../../src/core/queue.ts";
import type { BuildRecord } from "../../../src/core/build.ts";
import type { BuildRequest, PullRequestRef } from "../../../src/core/types.ts";
import { buildRequest } from "../build-requests.ts";

/** A Store and a Queue over one database. */
export interface StoreQueueConnection {
  store: Store;
  queue: Queue;
  close(): Promise<void>;
}

/** A fresh, empty database; `connect` opens another connection to it, as a second process would. */
export interface StoreQueueBackend extends StoreQueueConnection {
  connect(): Promise<StoreQueueConnection>;
}

export interface ContractCase {
  name: string;
  run(db: StoreQueueBackend): Promise<void>;
}

/** A time far from 0 and from Date.now(), so a case's clock never meets a default one. */
export const T0 = 1_000_000;

export const pr = (number: number, fork = false): PullRequestRef => ({
  number, fork, headRepo: fork ? "fork/app" : "octo/app", headRef: "feature", baseRef: "main",
});

/** A fork PR's head, as the webhook maps it: no branch, fetched from pull/N/head. */
export const forkRequest = (number: number, over: Partial<BuildRequest> = {}): BuildRequest =>
  buildRequest({ trigger: "pull_request", branch: null, pr: pr(number, true), fetchRef: `refs/pull/${number}/head`, ...over });

export function created(result: SubmitResult): Extract<SubmitResult, { kind: "created" }> {
  assert.equal(result.kind, "created");
  return result as Extract<SubmitResult, { kind: "created" }>;
}

export function existing(result: SubmitResult): BuildRecord {
  assert.equal(result.kind, "existing");
  return (result as Extract<SubmitResult, { kind: "existing" }>).build;
}

/** Submits and returns the new build. */
export async function submitNew(store: Store, over: Partial<BuildRequest>, now?: number): Promise<BuildRecord> {
  return created(await store.submit(buildRequest(over), now)).build;
}

export const ids = (builds: readonly BuildRecord[]) => builds.map((b) => b.id).sort();

export function claim(queue: Queue, workerId: string, now = T0, maxRunning = 100, leaseMs = 10_000) {
  return queue.claim({ workerId, leaseMs, maxRunning, now });
}

export async function mustGet(store: Store, id: string): Promise<BuildRecord> {
  const build = await store.getBuild(id);
  assert.ok(build, `build ${id} exists`);
  return build;
}
