import type { RegistryCredential } from "../../../src/core/ports.ts";
import type { Builder, SourceArchive } from "../../../src/core/builder.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";

export type Status = "queued" | "building" | "pushing" | "ready" | "failed" | "cancelled";
export interface FakeEvent {
  type: "log" | "status" | "heartbeat";
  timestamp: string;
  content?: string;
  status?: Status;
}

export interface BuildRequestFields {
  dockerfile: string;
  imageName: string | null;
  cacheScope: string | null;
  timeoutSeconds: number;
  secretIds: string[];
  runtime: string | null;
  baseImageDigest: string | null;
  fields: Record<string, string>;
}

const TERMINAL = new Set<Status>(["ready", "failed", "cancelled"]);

/**
 * One build on the fake server: Hypeman's record and event log, run for real by a Builder behind
 * it, so digests and provenance are a real registry's. Errors are worded as Hypeman words them.
 */
export class FakeBuild {
  readonly id: string;
  readonly request: BuildRequestFields;
  status: Status = "queued";
  readonly createdAt = new Date();
  startedAt: Date | null = null;
  completedAt: Date | null = null;
  imageRef: string | null = null;
  imageDigest: string | null = null;
  error: string | null = null;
  provenance: Record<string, unknown> | null = null;
  readonly events: FakeEvent[] = [];
  private readonly listeners = new Set<(ev: FakeEvent) => void>();
  private readonly withheld: FakeEvent[] = [];
  private readonly abort = new AbortController();
  private readonly o: { logsAtEnd: boolean; holdTerminalMs: number };

  constructor(id: string, request: BuildRequestFields, o: { logsAtEnd: boolean; holdTerminalMs: number }) {
    this.id = id;
    this.request = request;
    this.o = o;
  }

  get terminal(): boolean {
    return TERMINAL.has(this.status);
  }

  subscribe(fn: (ev: FakeEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  cancel(): void {
    this.abort.abort();
  }

  async run(builder: Builder, source: SourceArchive, registry: string, secretValues: Record<string, string>, registryAuth: RegistryCredential | null = null): Promise<void> {
    await new Promise((r) => setTimeout(r, 20));
    if (this.abort.signal.aborted) return this.end("cancelled");
    this.startedAt = new Date();
    this.setStatus("building");
    const name = this.request.imageName ?? `builds/${this.id}`;
    const handle = builder.build({
      buildId: this.id, source, dockerfile: this.request.dockerfile, imageName: `${registry}/${name}`, tags: [`build-${this.id}`],
      buildArgs: {}, cacheScope: this.request.cacheScope ?? "default", untrusted: false, registryAuth, noCache: false, timeoutSeconds: this.request.timeoutSeconds,
      secrets: this.request.secretIds.filter((id) => id in secretValues).map((id) => ({ id, value: secretValues[id]! })),
      runtime: this.request.runtime, baseImageDigest: this.request.baseImageDigest, signal: this.abort.signal,
    });
    const drained = (async () => {
      for await (const l of handle.logs) {
        if (l.stream === "system" && l.text.startsWith("pushing ")) this.setStatus("pushing");
        this.emit({ type: "log", timestamp: new Date(l.ts).toISOString(), content: l.text });
      }
    })();
    try {
      const out = await handle.result;
      await drained;
      this.imageDigest = out.digest;
      // Hypeman answers the name it pushed under, without its registry's host.
      this.imageRef = name;
      this.provenance = {
        source_hash: out.provenance.sourceHash,
        lockfile_hashes: out.provenance.lockfileHashes,
        base_image_digest: out.provenance.baseImageDigest ?? undefined,
        buildkit_version: out.provenance.builderVersion ?? undefined,
        timestamp: new Date().toISOString(),
      };
      this.end("ready");
    } catch (err) {
      await drained;
      if (this.abort.signal.aborted) return this.end("cancelled");
      const kind = isMicroshipError(err) ? err.kind : "infra";
      this.error = kind === "user" ? `buildctl failed: ${(err as Error).message}` : kind === "timeout" ? "context deadline exceeded" : "builder instance stopped unexpectedly";
      this.end("failed");
    }
  }

  record(): Record<string, unknown> {
    return {
      id: this.id, status: this.status, queue_position: this.status === "queued" ? 1 : null,
      image_ref: this.imageRef, image_digest: this.imageDigest, error: this.error, provenance: this.provenance,
      created_at: this.createdAt.toISOString(), started_at: this.startedAt?.toISOString() ?? null, completed_at: this.completedAt?.toISOString() ?? null,
      duration_ms: this.startedAt && this.completedAt ? this.completedAt.getTime() - this.startedAt.getTime() : null,
    };
  }

  private end(status: Status): void {
    this.completedAt = new Date();
    // Older servers hold every log line back until here, then send them in one burst.
    for (const ev of this.withheld.splice(0)) this.publish(ev);
    if (this.o.holdTerminalMs <= 0) return this.setStatus(status);
    // The record says it is over before the stream does: the window of the cancel race.
    this.status = status;
    setTimeout(() => this.publish({ type: "status", timestamp: new Date().toISOString(), status }), this.o.holdTerminalMs);
  }

  private setStatus(status: Status): void {
    if (this.status === status) return;
    this.status = status;
    this.publish({ type: "status", timestamp: new Date().toISOString(), status });
  }

  private emit(ev: FakeEvent): void {
    if (this.o.logsAtEnd && !this.terminal) this.withheld.push(ev);
    else this.publish(ev);
  }

  private publish(ev: FakeEvent): void {
    this.events.push(ev);
    for (const fn of this.listeners) fn(ev);
  }
}
