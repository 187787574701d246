import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Hypeman, { toFile } from "@onkernel/hypeman";
import type { Build } from "@onkernel/hypeman/resources/builds";
import type { BuildInput, BuildOutput, LogLine } from "../../core/builder.ts";
import type { OpLog } from "../../core/ports.ts";
import { OutputLine } from "../../core/log-text.ts";
import { styledLogText } from "../../core/log-style.ts";
import { infraError, isMicroshipError, type MicroshipError } from "../../core/errors.ts";
import { manifestInfo, tagManifest } from "../../registry/registry-client.ts";
import { BuilderShell, type BuildBackend, type BuildIO } from "../builder-shell.ts";
import { followBuild } from "./follow-build.ts";
import { withRootDockerfile } from "./root-dockerfile.ts";
import { hypemanFailure } from "./hypeman-failure.ts";
import { hypemanApiError } from "./hypeman-api-error.ts";
import { HypemanPool, type HypemanPoolOptions, type PoolServer } from "./hypeman-pool.ts";
import { submitToPool } from "./submit-to-pool.ts";
import { servedImage, splitImageName, type ImageName } from "./served-image.ts";

export interface HypemanBuilderOptions {
  /** HYPEMAN_BASE_URL: one server, or several that builds are spread over. */
  baseURL: string | readonly string[];
  /** HYPEMAN_API_KEY: a JWT the server signed (HS256 with its JWT_SECRET). */
  apiKey?: string;
  log?: OpLog;
  /** Added to a build's own timeout before microship gives up on the server (default 60 s). */
  graceSeconds?: number;
  /** Event-stream handling; the defaults suit Hypeman's 30 s heartbeat. */
  idleMs?: number;
  reconnects?: number;
  backoffMs?: number;
  pollMs?: number;
  /** How the pool reads capacity and leaves failed servers out (several servers only). */
  pool?: Pick<HypemanPoolOptions, "capacityTtlMs" | "backoffMs" | "maxBackoffMs" | "now">;
}

/**
 * Builds on Hypeman servers through their builds API (docs/design.md section 5), with the official SDK. The
 * server builds in a microVM and pushes to its registry; microship then tags the image by the
 * digest the server reports, through the registry's API, when it can reach that registry.
 */
export class HypemanBuilder extends BuilderShell {
  constructor(o: HypemanBuilderOptions) {
    super(new HypemanBackend(o));
  }
}

class HypemanBackend implements BuildBackend {
  readonly name = "hypeman";
  private readonly o: HypemanBuilderOptions;
  private readonly pool: HypemanPool;

  constructor(o: HypemanBuilderOptions) {
    this.o = o;
    const baseURLs = typeof o.baseURL === "string" ? [o.baseURL] : o.baseURL;
    this.pool = new HypemanPool({ ...o.pool, baseURLs, apiKey: o.apiKey, log: o.log });
  }

  describe(): string {
    return this.pool.describe();
  }

  unexpected(err: unknown): MicroshipError {
    return hypemanApiError(err, this.pool.servers[0]!.url);
  }

  async run(input: BuildInput, io: BuildIO): Promise<BuildOutput> {
    let placed: { server: PoolServer; id: string } | null = null;
    const scratch = await mkdtemp(join(tmpdir(), "ms-hypeman-"));
    try {
      const image = splitImageName(input.imageName);
      // Read once: a create that never reached its server is sent again, to another.
      const source = await toFile(await withRootDockerfile(input.source, input.dockerfile, scratch), "source.tar.gz", { type: "application/gzip" });
      const { server, build: created } = await submitToPool(this.pool, input, io, (client) => this.submit(client, input, image, source));
      placed = { server, id: created.id };
      input.signal.throwIfAborted();
      io.system(`Hypeman build ${created.id}: ${created.status}${created.queue_position ? ` (position ${created.queue_position} in the queue)` : ""}`);
      const clock = { startedAt: null as number | null };
      const final = await this.follow(server.client, input, io, created, clock);
      return await this.finish(input, image, final, io.tail, clock.startedAt);
    } catch (err) {
      if (input.signal.aborted && placed) await this.cancelOnServer(placed.server.client, placed.id);
      // The server's own host, not the pool's first, names where it failed.
      throw placed && !isMicroshipError(err) ? hypemanApiError(err, placed.server.url) : err;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  private async submit(client: Hypeman, input: BuildInput, image: ImageName, source: File): Promise<Build> {
    return await client.builds.create(
      {
        source,
        dockerfile: input.dockerfile,
        cache_scope: input.cacheScope,
        timeout_seconds: input.timeoutSeconds,
        image_name: image.repository,
        ...(input.secrets.length ? { secrets: JSON.stringify(input.secrets.map((s) => ({ id: s.id }))) } : {}),
        ...(input.baseImageDigest ? { base_image_digest: input.baseImageDigest } : {}),
        // Servers of the seed's API choose their builder image by runtime; newer ones ignore it.
        ...(input.runtime ? { runtime: input.runtime } : {}),
        tags: JSON.stringify({ "microship.build": input.buildId }),
      } as Parameters<Hypeman["builds"]["create"]>[0],
      // Not aborted by a cancel: a build the server accepted must come back with its id, to be cancelled.
      { maxRetries: 0 },
    );
  }

  /** Follows the build to its end; the deadline clock starts when it leaves the server's queue. */
  private follow(client: Hypeman, input: BuildInput, io: BuildIO, created: Build, clock: { startedAt: number | null }): Promise<Build> {
    const id = created.id;
    let last = created.status;
    const running = () => {
      clock.startedAt ??= Date.now();
      io.startDeadline(this.o.graceSeconds ?? 60);
    };
    if (last !== "queued") running();
    return followBuild(client, id, {
      signal: input.signal,
      log: this.o.log,
      idleMs: this.o.idleMs ?? 75_000,
      reconnects: this.o.reconnects ?? 3,
      backoffMs: this.o.backoffMs ?? 1_000,
      pollMs: this.o.pollMs ?? 2_000,
      onLog: (ev) => {
        for (const text of (ev.content ?? "").split(/\r?\n/)) {
          if (text !== "" || ev.content === "") {
            const styled = styledLogText(text);
            io.line(new OutputLine(Date.parse(ev.timestamp) || Date.now(), "stdout", styled.text, styled.runs));
          }
        }
      },
      onStatus: (status) => {
        // A reopened event stream replays the statuses from `queued`: only a step forward is news.
        if (!isLaterStatus(status, last)) return;
        last = status;
        if (status !== "queued") running();
        io.system(`Hypeman build ${id}: ${status}`);
      },
    });
  }

  private async finish(input: BuildInput, image: ImageName, b: Build, tail: readonly LogLine[], startedAt: number | null): Promise<BuildOutput> {
    const ranMs = b.duration_ms ?? (startedAt ? Date.now() - startedAt : 0);
    if (b.status === "failed") throw hypemanFailure(b.error ?? null, tail, { ranMs, timeoutSeconds: input.timeoutSeconds });
    if (b.status === "cancelled") throw infraError(`The Hypeman server cancelled build ${b.id}.`, { title: "Build cancelled by the server" });
    const digest = b.image_digest;
    if (!digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw infraError(`Hypeman reported build ${b.id} ready without an image digest.`);
    const served = servedImage(b.image_ref ?? null, image);
    const t1 = Date.now();
    let tags: string[] = [];
    let sizeBytes: number | null = null;
    if (served.registry === image.registry) {
      // Hypeman names the image but tags it by build; the sha and branch tags are ours to add.
      for (const tag of input.tags) await tagManifest(image.registry, served.repository, digest, tag, { auth: input.registryAuth });
      tags = input.tags;
      sizeBytes = (await manifestInfo(image.registry, served.repository, digest, { auth: input.registryAuth }).catch(() => null))?.sizeBytes ?? null;
    }
    const p = b.provenance ?? {};
    return {
      imageRef: `${served.registry}/${served.repository}@${digest}`,
      digest,
      tags,
      sizeBytes,
      provenance: {
        // The repo's archive, not the copy repacked with the chosen Dockerfile that Hypeman hashed.
        sourceHash: input.source.sha256,
        lockfileHashes: p.lockfile_hashes ?? {},
        // Hypeman sends unset provenance fields as "".
        baseImageDigest: p.base_image_digest || input.baseImageDigest,
        builderVersion: p.buildkit_version ? `Hypeman, ${p.buildkit_version}` : "Hypeman",
      },
      timings: { buildMs: ranMs, pushMs: Date.now() - t1 },
    };
  }

  /** Best effort: a build that already ended answers 409, or even 500; either way it is not running. */
  private async cancelOnServer(client: Hypeman, id: string): Promise<void> {
    try {
      await client.builds.cancel(id, { timeout: 5_000, maxRetries: 0 });
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status !== 404 && status !== 409 && status !== 500) this.o.log?.warn({ err: String(err), buildId: id }, "hypeman: cancel failed");
    }
  }
}

const STATUS_ORDER: readonly string[] = ["queued", "building", "pushing", "ready", "failed", "cancelled"];

/** The lifecycle only moves forward (the three ends are all last); an unknown status is passed on. */
export function isLaterStatus(status: string, last: string | null | undefined): boolean {
  if (!last) return true;
  const at = STATUS_ORDER.indexOf(status);
  const was = STATUS_ORDER.indexOf(last);
  if (at < 0 || was < 0) return status !== last;
  return Math.min(at, 3) > Math.min(was, 3);
}
