import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Hypeman, { toFile } from "@onkernel/hypeman";
import type { Build, BuildStatus } from "@onkernel/hypeman/resources/builds";
import type { Builder, BuildHandle, BuildInput, BuildOutput, LogLine } from "../../core/builder.ts";
import type { OpLog } from "../../core/ports.ts";
import { LogChannel } from "../log-lines.ts";
import { cleanLogText } from "../../core/log-text.ts";
import { cancelledError, infraError, isMicroshipError, timeoutError, userError } from "../../core/errors.ts";
import { registryHost } from "../../registry/registry-host.ts";
import { manifestInfo, tagManifest } from "../../registry/registry-client.ts";
import { followBuild } from "./follow-build.ts";
import { withRootDockerfile } from "./root-dockerfile.ts";
import { hypemanFailure } from "./hypeman-failure.ts";

export interface HypemanBuilderOptions {
  /** HYPEMAN_BASE_URL. */
  baseURL: string;
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
}

const TAIL_LINES = 200;

/**
 * Builds on a Hypeman server through its builds API (DESIGN.md 6.1), with the official SDK. The
 * server builds in a microVM and pushes to its registry; microship then tags the image by the
 * digest the server reports, through the registry's API, when it can reach that registry.
 */
export class HypemanBuilder implements Builder {
  readonly name = "hypeman";
  private readonly o: HypemanBuilderOptions;
  private readonly client: Hypeman;
  private readonly running = new Set<AbortController>();

  constructor(o: HypemanBuilderOptions) {
    this.o = o;
    // The SDK retries idempotent failures itself; a create is retried only on connection errors.
    this.client = new Hypeman({ baseURL: o.baseURL, apiKey: o.apiKey ?? "", maxRetries: 2, timeout: 120_000, logLevel: "off" });
  }

  describe(): string {
    return `Hypeman at ${new URL(this.o.baseURL).host} (a microVM per build)`;
  }

  build(input: BuildInput): BuildHandle {
    const logs = new LogChannel();
    const result = this.run(input, logs).finally(() => logs.close());
    return { logs, result };
  }

  async close(): Promise<void> {
    for (const c of this.running) c.abort(cancelledError("The builder is shutting down."));
  }

  private async run(input: BuildInput, logs: LogChannel): Promise<BuildOutput> {
    const stop = new AbortController();
    const onAbort = () => stop.abort(cancelledError("The build was cancelled.", { title: "Build cancelled" }));
    if (input.signal.aborted) onAbort();
    else input.signal.addEventListener("abort", onAbort, { once: true });
    this.running.add(stop);
    const tail: LogLine[] = [];
    const push = (l: LogLine) => {
      tail.push(l);
      if (tail.length > TAIL_LINES) tail.shift();
      logs.push(l);
    };
    let id: string | null = null;
    let startedAt: number | null = null;
    let deadline: NodeJS.Timeout | null = null;
    const armDeadline = () => {
      if (deadline) return;
      startedAt = Date.now();
      deadline = setTimeout(
        () => stop.abort(timeoutError(`The build took longer than its ${input.timeoutSeconds} s limit.`, { title: "Build timed out" })),
        (input.timeoutSeconds + (this.o.graceSeconds ?? 60)) * 1000,
      );
    };
    const scratch = await mkdtemp(join(tmpdir(), "ms-hypeman-"));
    try {
      const image = splitImageName(input.imageName);
      logs.system(`submitting to Hypeman at ${new URL(this.o.baseURL).host}`);
      const created = await this.client.builds.create(
        {
          source: await toFile(await withRootDockerfile(input.source, input.dockerfile, scratch), "source.tar.gz", { type: "application/gzip" }),
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
      id = created.id;
      stop.signal.throwIfAborted();
      logs.system(`Hypeman build ${id}: ${created.status}${created.queue_position ? ` (position ${created.queue_position} in the queue)` : ""}`);
      let last: BuildStatus = created.status;
      if (last !== "queued") armDeadline();
      const final = await followBuild(this.client, id, {
        signal: stop.signal,
        log: this.o.log,
        idleMs: this.o.idleMs ?? 75_000,
        reconnects: this.o.reconnects ?? 3,
        backoffMs: this.o.backoffMs ?? 1_000,
        pollMs: this.o.pollMs ?? 2_000,
        onLog: (ev) => {
          for (const text of (ev.content ?? "").split(/\r?\n/)) {
            if (text !== "" || ev.content === "") push({ ts: Date.parse(ev.timestamp) || Date.now(), stream: "stdout", text: cleanLogText(text) });
          }
        },
        onStatus: (status) => {
          if (status === last) return;
          last = status;
          if (status !== "queued") armDeadline();
          logs.system(`Hypeman build ${id}: ${status}`);
        },
      });
      return await this.finish(input, image, final, tail, startedAt);
    } catch (err) {
      if (stop.signal.aborted) {
        if (id) await this.cancelOnServer(id);
        throw stop.signal.reason;
      }
      if (isMicroshipError(err)) throw err;
      throw apiError(err, this.o.baseURL);
    } finally {
      await rm(scratch, { recursive: true, force: true });
      if (deadline) clearTimeout(deadline);
      input.signal.removeEventListener("abort", onAbort);
      this.running.delete(stop);
    }
  }

  private async finish(input: BuildInput, image: { registry: string; repository: string }, b: Build, tail: LogLine[], startedAt: number | null): Promise<BuildOutput> {
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
  private async cancelOnServer(id: string): Promise<void> {
    try {
      await this.client.builds.cancel(id, { timeout: 5_000, maxRetries: 0 });
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status !== 404 && status !== 409 && status !== 500) this.o.log?.warn({ err: String(err), buildId: id }, "hypeman: cancel failed");
    }
  }
}

/**
 * Where the server put the image. Hypeman answers `image_ref` as the name it pushed under in its
 * own registry, without the registry's host (`octo/app`, or `builds/{id}`): that registry is the
 * one microship is configured with.
 */
function servedImage(ref: string | null, asked: { registry: string; repository: string }): { registry: string; repository: string } {
  if (!ref) return asked;
  const name = ref.replace(/@sha256:[0-9a-f]+$/, "").replace(/:[\w][\w.-]*$/, "");
  const host = registryHost(name);
  if (host === "docker.io" && !name.startsWith("docker.io/")) return { registry: asked.registry, repository: name };
  return splitImageName(name);
}

function splitImageName(name: string): { registry: string; repository: string } {
  const registry = registryHost(name);
  return { registry, repository: name.startsWith(`${registry}/`) ? name.slice(registry.length + 1) : name };
}

/** The SDK's API errors as ours: a rejected request is the operator's to fix, never the repo's. */
function apiError(err: unknown, baseURL: string): Error {
  const e = err as { status?: number; error?: { code?: string; message?: string }; message?: string };
  const host = new URL(baseURL).host;
  if (e.status === 401 || e.status === 403) {
    return infraError(`Hypeman at ${host} refused microship's credentials (${e.status}).`, { title: "Hypeman refused the credentials", hint: "Set HYPEMAN_API_KEY to a valid token for this server." });
  }
  if (e.status === 400 || e.status === 422) {
    return userError(`Hypeman rejected the build: ${e.error?.message ?? e.message ?? "bad request"}`, { title: "Build rejected", hint: "The source archive or Dockerfile was not accepted; the message says why." });
  }
  if (typeof e.status === "number") return infraError(`Hypeman at ${host} answered ${e.status}: ${e.error?.message ?? e.message ?? ""}`.trim(), { title: "Hypeman unavailable" });
  return infraError(`Hypeman at ${host} can't be reached: ${e.message ?? String(err)}`, { title: "Hypeman unreachable" });
}
