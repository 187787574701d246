/**
 * The Store and Queue contract: the cases every database (SQLite, Postgres) must pass,
 * through the ports (src/core/store.ts, src/core/queue.ts) only.
 *
 *   import { runStoreQueueContract } from "../../helpers/store-queue-contract.ts";
 *   runStoreQueueContract("sqlite", async () => {
 *     const path = ...; // a fresh database for each case
 *     return { store, queue, close, connect: () => open a second connection to `path` };
 *   });
 *
 * `open` is called once per case and must give an empty database; `close` ends it (and what
 * it made). `connect` opens another connection to the same database, as a second process
 * would; a connection that really runs beside the first (a worker thread, another pool
 * client) makes the concurrency cases races, not turns. The cases:
 *   - submit-cases: delivery dedupe (shared with recordDelivery); one build per (owner, repo,
 *     sha) within a trust level (core/trust.ts), finished or not, PRs attached to shared
 *     builds, prForSha; re-runs as new attempts counted across both levels;
 *   - supersede-cases: core/supersede.ts through submit: queued builds end cancelled, running
 *     ones are asked; branch, repository and PR scopes; forks never supersede nor are
 *     superseded by the base repository's branches; default-branch builds never superseded,
 *     and one as created stays one;
 *   - claim-cases: maxRunning, fairness between installations, the oldest first, the lease a
 *     claim takes; default-branch builds waiting (with the supersede cases);
 *   - lease-cases: expiry, heartbeats (held, lost, cancelRequested), recovery (requeue, then
 *     abandon and hold for a minute; own leases renewed);
 *   - concurrency-cases: two connections never claim one build, maxRunning holds across
 *     them, one delivery or sha submitted on both makes one build, writes are seen at once;
 *   - log-cases: appendLog, readLog, readLogPage, logTail, deleteLogsBefore;
 *   - bookkeeping-cases: cancelPullRequest, check runs and app check runs, complete, counts;
 *   - list-cases: listBuilds (the dashboard's list: visibility, filters, order, pages), cancelBuild.
 */
import { describe, test } from "node:test";
import type { ContractCase, StoreQueueBackend } from "./store-queue-contract/contract-case.ts";
import { submitCases } from "./store-queue-contract/submit-cases.ts";
import { supersedeCases } from "./store-queue-contract/supersede-cases.ts";
import { claimCases } from "./store-queue-contract/claim-cases.ts";
import { leaseCases } from "./store-queue-contract/lease-cases.ts";
import { concurrencyCases } from "./store-queue-contract/concurrency-cases.ts";
import { logCases } from "./store-queue-contract/log-cases.ts";
import { bookkeepingCases } from "./store-queue-contract/bookkeeping-cases.ts";
import { listCases } from "./store-queue-contract/list-cases.ts";

export type { StoreQueueBackend, StoreQueueConnection } from "./store-queue-contract/contract-case.ts";

export const storeQueueCases: readonly ContractCase[] = [
  ...submitCases, ...supersedeCases, ...claimCases, ...leaseCases, ...concurrencyCases, ...logCases, ...bookkeepingCases, ...listCases,
];

export function runStoreQueueContract(name: string, open: () => Promise<StoreQueueBackend>): void {
  describe(`Store and Queue contract: ${name}`, () => {
    for (const c of storeQueueCases) {
      test(c.name, async () => {
        const db = await open();
        try {
          await c.run(db);
        } finally {
          await db.close();
        }
      });
    }
  });
}
