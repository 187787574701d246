import Hypeman from "@onkernel/hypeman";
import { infraError, type MicroshipError } from "../../core/errors.ts";
import type { OpLog } from "../../core/ports.ts";
import { freeRoom, lessPlaced, pickServer, type Candidate, type FreeRoom } from "./pick-server.ts";
import { serverFault } from "./server-fault.ts";

export interface HypemanPoolOptions {
  baseURLs: readonly string[];
  apiKey?: string;
  log?: OpLog;
  /** How long a capacity reading is trusted (default 5 s): a burst of builds reads each server once. */
  capacityTtlMs?: number;
  /** A failed server is left out this long, doubled per failure in a row up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

export interface PoolServer {
  readonly url: string;
  /** host[:port] only: a URL's userinfo never reaches a log or a message. */
  readonly host: string;
  readonly client: Hypeman;
}

interface ServerState extends PoolServer {
  reading: { at: number; free: FreeRoom | null } | null;
  reads: Promise<void> | null;
  /** Builds placed since the last reading, taken off its free room. */
  placed: number;
  failures: number;
  outUntil: number;
  lastError: string | null;
}

/** Scopes remembered for affinity; the oldest is forgotten first. */
export const AFFINITY_LIMIT = 10_000;

/**
 * The Hypeman servers of HYPEMAN_BASE_URL (docs/design.md section 5). Each build goes to the
 * server that last built its cache scope while that one has room, else to the freest, by
 * `GET /resources` read at most once per capacityTtlMs. A server that fails is left out for a
 * backoff and read again after it. One server is used as it is: never read, never left out.
 */
export class HypemanPool {
  readonly servers: readonly PoolServer[];
  private readonly states: ServerState[];
  private readonly affinity = new Map<string, string>();
  private readonly o: HypemanPoolOptions;
  private readonly now: () => number;

  constructor(o: HypemanPoolOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.states = o.baseURLs.map((url) => ({
      url, host: new URL(url).host, reading: null, reads: null, placed: 0, failures: 0, outUntil: 0, lastError: null,
      // The SDK retries idempotent failures itself; a create is retried only on connection errors.
      client: new Hypeman({ baseURL: url, apiKey: o.apiKey ?? "", maxRetries: 2, timeout: 120_000, logLevel: "off" }),
    }));
    this.servers = this.states;
  }

  describe(): string {
    if (this.states.length === 1) return `Hypeman at ${this.states[0]!.host} (a microVM per build)`;
    return `Hypeman pool of ${this.states.length} servers (${this.states.map((s) => s.host).join(", ")}; a microVM per build)`;
  }

  /** The server for a build of `scope`, among those not in `tried`; throws when none is up. */
  async pick(scope: string, tried: ReadonlySet<PoolServer> = new Set()): Promise<PoolServer> {
    if (this.states.length === 1) return this.states[0]!;
    const up = this.states.filter((s) => !tried.has(s) && s.outUntil <= this.now());
    await Promise.all(up.map((s) => this.read(s)));
    const live = up.filter((s) => s.outUntil <= this.now());
    const candidates: Candidate[] = live.map((s) => ({ url: s.url, free: s.reading!.free && lessPlaced(s.reading!.free, s.placed) }));
    const chosen = pickServer(candidates, this.affinity.get(scope) ?? null);
    if (!chosen) throw this.noneUp();
    const server = live.find((s) => s.url === chosen.url)!;
    // Counted now, not when the create returns: the picks of a burst run together.
    server.placed++;
    return server;
  }

  /** The server accepted a build of `scope`: it is the scope's home now. */
  accepted(server: PoolServer, scope: string): void {
    const s = server as ServerState;
    s.failures = 0;
    this.affinity.delete(scope);
    this.affinity.set(scope, s.url);
    if (this.affinity.size > AFFINITY_LIMIT) this.affinity.delete(this.affinity.keys().next().value!);
  }

  /** The server that last took a build of `scope`, if the pool still remembers. */
  homeOf(scope: string): string | null {
    return this.affinity.get(scope) ?? null;
  }

  /** Leaves a server out for its backoff; the error is kept for the "none is up" message. */
  failed(server: PoolServer, err: unknown): void {
    const s = server as ServerState;
    if (this.states.length === 1) return;
    const base = this.o.backoffMs ?? 30_000;
    const backoff = Math.min(base * 2 ** Math.min(s.failures, 20), this.o.maxBackoffMs ?? 10 * 60_000);
    s.failures++;
    s.outUntil = this.now() + backoff;
    s.reading = null;
    s.lastError = serverFault(err);
    this.o.log?.warn({ server: s.host, backoffMs: backoff, err: s.lastError }, "hypeman: a server failed; leaving it out of the pool for a while");
  }

  private read(s: ServerState): Promise<void> {
    if (s.reading && this.now() - s.reading.at < (this.o.capacityTtlMs ?? 5_000)) return Promise.resolve();
    s.reads ??= s.client.resources.get({ timeout: 10_000, maxRetries: 0 }).then(
      (r) => {
        s.reading = { at: this.now(), free: freeRoom(r) };
        s.placed = 0;
      },
      (err: unknown) => {
        // An older server without the resources API still builds; it just can't say how full it is.
        const status = (err as { status?: number }).status;
        if (status === 404 || status === 501) s.reading = { at: this.now(), free: null };
        else this.failed(s, err);
      },
    ).finally(() => (s.reads = null));
    return s.reads;
  }

  private noneUp(): MicroshipError {
    const now = this.now();
    const each = this.states.map((s) => {
      const out = s.outUntil > now ? `, left out for ${Math.ceil((s.outUntil - now) / 1000)} s more` : "";
      return `${s.host} (${s.lastError ?? "failed"}${out})`;
    });
    return infraError(`No Hypeman server can take the build: ${each.join("; ")}.`, {
      title: "Hypeman servers unavailable",
      hint: "Every server in HYPEMAN_BASE_URL failed; each is tried again after its backoff. Re-run the build once one is back.",
    });
  }
}
