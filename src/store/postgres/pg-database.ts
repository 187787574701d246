import pg from "pg";

/** What a pool and a transaction's client both answer: one statement at a time. */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<pg.QueryResult>;
}

export type Row = Record<string, unknown>;

/** Channels of NOTIFY: a submit wakes idle workers anywhere, a stop request reaches the build's replica. */
export const WAKE_CHANNEL = "microship_wake";
export const CANCEL_CHANNEL = "microship_cancel";

/**
 * A pool over DATABASE_URL. Transactions run at READ COMMITTED: where two replicas could race
 * (one sha submitted twice, two claims against maxRunning) a transaction-scoped advisory lock
 * serialises them, and every statement after it sees what the lock's previous holder committed.
 */
export class PgDatabase {
  readonly pool: pg.Pool;
  /**
   * Connections that hold session locks while their holder works on the main pool: one pool
   * for both would deadlock once every connection waited for a lock whose holder needs one.
   */
  private readonly lockPool: pg.Pool;

  /**
   * `statementMs` bounds every statement, a wait for a lock included: a stuck database fails a
   * webhook (GitHub redelivers) or a claim (the next poll retries) instead of hanging them.
   * A replica opens at most max + 8 connections, and one more to listen (pg-notifications.ts).
   */
  constructor(url: string, max = 16, statementMs = 60_000) {
    const bounds = { connectionTimeoutMillis: 10_000, statement_timeout: statementMs, keepAlive: true };
    this.pool = new pg.Pool({ connectionString: url, max, ...bounds });
    // A lock's connection is held while its holder calls GitHub (opening a check run): after an
    // outage, a burst of them waits its turn here rather than failing into the slower retry paths.
    this.lockPool = new pg.Pool({ connectionString: url, max: 8, ...bounds, connectionTimeoutMillis: statementMs });
    // An idle client's broken connection must not crash the process: the pool drops it and the
    // next query opens another.
    this.pool.on("error", () => {});
    this.lockPool.on("error", () => {});
    // Nor may a checked-out one's (a lock held across other work, a transaction between two
    // statements) when Postgres restarts: its holder's next statement fails and says so.
    for (const p of [this.pool, this.lockPool]) p.on("connect", (client) => void client.on("error", () => {}));
  }

  /** Runs `fn` holding the session advisory lock named by `key`, which every replica honours. */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const client = await this.lockPool.connect();
    let broken: Error | undefined;
    try {
      await client.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [key]);
      try {
        return await fn();
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]);
      }
    } catch (err) {
      broken = err as Error;
      throw err;
    } finally {
      // An error may have left the lock held on this connection: it is closed, not reused.
      client.release(broken);
    }
  }

  /**
   * Takes the session advisory lock `key` if it is free, holding one connection of the lock
   * pool until the returned function frees it; null (and no connection held) when it is taken.
   */
  async tryLock(key: string): Promise<(() => Promise<void>) | null> {
    const client = await this.lockPool.connect();
    // A held connection the server ends (restart, admin) must not crash the process: the lock is gone, the unlock below says so.
    const onError = () => {};
    client.on("error", onError);
    try {
      const r = await client.query("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok", [key]);
      if (r.rows[0]?.ok !== true) {
        client.off("error", onError);
        client.release();
        return null;
      }
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
    return async () => {
      // A connection whose unlock failed may still hold the lock: it is closed, not reused.
      const failed = await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]).then(() => undefined, (err: Error) => err);
      client.off("error", onError);
      client.release(failed);
    };
  }

  async query(text: string, params: unknown[] = []): Promise<pg.QueryResult> {
    return this.pool.query(text, params);
  }

  async transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      client.release();
      return result;
    } catch (err) {
      // A client whose ROLLBACK failed is broken: it leaves the pool instead of going back.
      await client.query("ROLLBACK").then(() => client.release(), (e: Error) => client.release(e));
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.lockPool.end();
    await this.pool.end();
  }
}

/** Takes a lock named by `key` until the transaction ends; the same key serialises, others don't. */
export async function lockFor(q: Queryable, key: string): Promise<void> {
  await q.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [key]);
}
