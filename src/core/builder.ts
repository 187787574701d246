import type { SgrRun } from "./log-style.ts";
import type { Readable } from "node:stream";
import type { Provenance } from "./types.ts";
import type { RegistryCredential } from "./ports.ts";

/**
 * One interface for every backend (hypeman, microvm, host); docs/design.md section 5.
 * A backend never throws plain errors out of `result`: it rejects with a MicroshipError
 * whose kind is "user" (the Dockerfile or the app's build failed), "infra" (builder
 * unreachable, died), "timeout" or "cancelled".
 */

export interface SourceArchive {
  /** A tar.gz of the app root; open as many times as needed (a retry re-reads it). */
  open(): Readable;
  /** Path on disk, for backends that hand the file to a tool. */
  path: string;
  sha256: string;
  sizeBytes: number;
  fileCount: number;
}

export interface BuildSecret {
  id: string;
  value: string;
}

export interface BuildInput {
  buildId: string;
  source: SourceArchive;
  dockerfile: string;
  /** registry/owner/repo[/app], no tag. */
  imageName: string;
  tags: string[];
  buildArgs: Record<string, string>;
  /** `{owner}/{repo}`, or `{owner}/{repo}/pr-{n}` for fork PRs, which must never write the base scope. */
  cacheScope: string;
  /**
   * The code comes from someone without write access to the repository (a fork PR): only a
   * builder that isolates the build in a VM may run it.
   */
  untrusted: boolean;
  /**
   * The credential the build pushes `imageName` with: scoped to the repository and to `tags`.
   * Null when the registry needs none (a registry of the operator's, configured on the host).
   */
  registryAuth?: RegistryCredential | null;
  noCache: boolean;
  timeoutSeconds: number;
  /** Empty for fork PRs. */
  secrets: BuildSecret[];
  /** Seed runtime id (nodejs24, python312), for old Hypeman servers; null for a repo's own Dockerfile. */
  runtime: string | null;
  /** Base image digest when known, pinned by config. */
  baseImageDigest: string | null;
  signal: AbortSignal;
}

export type LogStream = "stdout" | "stderr" | "system";

export interface LogLine {
  /** Milliseconds since the epoch. */
  ts: number;
  stream: LogStream;
  /** One line, no trailing newline, ANSI escapes removed, invalid UTF-8 replaced. */
  text: string;
  /** The colours its escapes gave `text` (log-style.ts); only the dashboard draws them, and checks them first. */
  sgr?: SgrRun[] | undefined;
}

export interface BuildTimings {
  buildMs: number;
  pushMs: number;
}

export interface BuildOutput {
  /** Pullable by digest: name@sha256:... */
  imageRef: string;
  /** The registry's own manifest digest. */
  digest: string;
  tags: string[];
  sizeBytes: number | null;
  provenance: Provenance;
  timings: BuildTimings;
}

export interface BuildHandle {
  /** Ends when the build ends. Consumers must drain it; backends buffer without bound otherwise. */
  logs: AsyncIterable<LogLine>;
  result: Promise<BuildOutput>;
}

export interface Builder {
  /** "host", "hypeman" or "microvm". */
  readonly name: string;
  /** One line for the check summary: what ran the build, and how it was isolated. */
  describe(): string;
  build(input: BuildInput): BuildHandle;
  /** Free resources held across builds (child processes, connections). */
  close?(): Promise<void>;
}
