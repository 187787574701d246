import pg from "pg";
import type { OpLog } from "../../core/ports.ts";
import { CANCEL_CHANNEL, WAKE_CHANNEL } from "./pg-database.ts";

/** A build id as this store makes them (randomUUID): anything else on the channel is ignored. */
const BUILD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * One connection that LISTENs for the other replicas: a submit (or a freed slot, or a requeue)
 * anywhere wakes this replica's idle workers, and a stop request reaches the build it runs at
 * once. Both only make things faster: workers still poll and heartbeats still carry
 * cancelRequested, so a notification lost while the connection is down costs a poll interval.
 * The connection is opened again a second after it drops, until close().
 */
export class PgNotifications {
  private readonly url: string;
  private readonly log: OpLog;
  private readonly wakes = new Set<() => void>();
  private readonly cancels = new Set<(buildId: string) => void>();
  private client: pg.Client | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(url: string, log: OpLog) {
    this.url = url;
    this.log = log;
  }

  /** Connects and listens; throws if the first connection fails (start-up should say so). */
  async start(): Promise<void> {
    await this.connect();
  }

  onWake(fn: () => void): void {
    this.wakes.add(fn);
  }

  onCancel(fn: (buildId: string) => void): void {
    this.cancels.add(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on("notification", (m) => this.deliver(m.channel, m.payload ?? ""));
    client.on("error", (err) => this.log.warn({ err }, "the Postgres notification connection failed; reconnecting"));
    client.on("end", () => {
      if (this.client !== client) return;
      this.client = null;
      this.reconnectLater();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${WAKE_CHANNEL}`);
      await client.query(`LISTEN ${CANCEL_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    if (this.closed) await client.end();
    else this.client = client;
  }

  private reconnectLater(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect().catch(() => this.reconnectLater());
    }, 1_000);
    this.retry.unref();
  }

  private deliver(channel: string, payload: string): void {
    try {
      if (channel === WAKE_CHANNEL) for (const fn of this.wakes) fn();
      else if (channel === CANCEL_CHANNEL && BUILD_ID.test(payload)) for (const fn of this.cancels) fn(payload);
    } catch (err) {
      this.log.error({ err, channel }, "a notification handler failed");
    }
  }
}
