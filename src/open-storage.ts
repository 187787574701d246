import { join } from "node:path";
import type { Env } from "./config/env.ts";
import type { OpLog } from "./core/ports.ts";
import type { Queue } from "./core/queue.ts";
import type { Store } from "./core/store.ts";
import { registerSecret } from "./core/redact.ts";
import { SqliteDatabase } from "./store/sqlite/sqlite-database.ts";
import { SqliteStore } from "./store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "./queue/sqlite/sqlite-queue.ts";
import { PgDatabase } from "./store/postgres/pg-database.ts";
import { migrate } from "./store/postgres/migrate.ts";
import { PgStore } from "./store/postgres/pg-store.ts";
import { PgQueue } from "./queue/postgres/pg-queue.ts";
import { PgNotifications } from "./store/postgres/pg-notifications.ts";
import type { SecretRows } from "./core/secrets/secret-store.ts";
import { SqliteSecretRows } from "./store/sqlite/sqlite-secret-rows.ts";
import { PgSecretRows } from "./store/postgres/pg-secret-rows.ts";

/** The system of record: a Store and a Queue over one database, and word from other replicas. */
export interface Storage {
  kind: "sqlite" | "postgres";
  store: Store;
  queue: Queue;
  /** The secret store's sealed rows, in the same database. */
  secretRows: SecretRows;
  /** `fn` runs when a build may be claimable because of another replica (a submit, a freed slot). */
  onWake(fn: () => void): void;
  /** `fn` runs when another replica asked a running build to stop. */
  onCancel(fn: (buildId: string) => void): void;
  close(): Promise<void>;
}

/** Postgres when DATABASE_URL is set (migrated first), else the embedded SQLite file in the data dir. */
export async function openStorage(env: Env, dataDir: string, log: OpLog): Promise<Storage> {
  if (!env.DATABASE_URL) {
    const sql = new SqliteDatabase(join(dataDir, "microship.sqlite"));
    const store = new SqliteStore(sql);
    // One process owns the file: its own submits wake its own workers, nothing else can.
    return { kind: "sqlite", store, queue: new SqliteQueue(sql), secretRows: new SqliteSecretRows(sql), onWake() {}, onCancel() {}, close: () => store.close() };
  }
  const url = env.DATABASE_URL;
  registerSecret(url);
  for (const form of passwordOf(url)) registerSecret(form);
  const db = new PgDatabase(url);
  const notifications = new PgNotifications(url, log);
  try {
    const applied = await migrate(db);
    if (applied.length > 0) log.info({ versions: applied }, "Postgres schema migrated");
    await notifications.start();
  } catch (err) {
    await notifications.close();
    await db.close();
    throw err;
  }
  if (!env.MICROSHIP_LOG_SECRET) log.warn("DATABASE_URL without MICROSHIP_LOG_SECRET: each replica signs log links with its own key, so a link works only on the replica that made it");
  if (!env.MICROSHIP_SECRETS_KEY) log.warn("DATABASE_URL without MICROSHIP_SECRETS_KEY: repositories' secrets can't be set or read until every replica has the same key");
  const store = new PgStore(db);
  return {
    kind: "postgres",
    store,
    queue: new PgQueue(db),
    secretRows: new PgSecretRows(db),
    onWake: (fn) => notifications.onWake(fn),
    onCancel: (fn) => notifications.onCancel(fn),
    async close() {
      await notifications.close();
      await store.close();
    },
  };
}

/** The URL's password as written and decoded: an error or a log may quote either. */
function passwordOf(url: string): string[] {
  try {
    const raw = new URL(url).password;
    return raw ? [raw, decodeURIComponent(raw)] : [];
  } catch {
    return [];
  }
}
