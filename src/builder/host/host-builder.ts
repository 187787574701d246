import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import type { BuildInput, BuildOutput } from "../../core/builder.ts";
import { buildahEnv, DEFAULT_STORAGE_DRIVER, ensureTmp, type BuildahEnv, type StorageDriver } from "../buildah/buildah-env.ts";
import { releaseStorage, unmountUnder } from "../buildah/release-storage.ts";
import { scopeDirName } from "../buildah/scope-storage.ts";
import { baseImageDigest, finalBaseImage, lockfileHashes } from "../buildah/provenance.ts";
import { needsPlainHttp } from "../../registry/registry-host.ts";
import { BuilderShell, type BuildBackend, type BuildIO } from "../builder-shell.ts";
import { prepareHostWorkdir } from "./host-workdir.ts";
import { budImage, pushTags } from "./host-steps.ts";
import { pushedSize } from "./pushed-size.ts";
import { infraError, userError, type MicroshipError } from "../../core/errors.ts";

export interface HostBuilderOptions {
  /** Storage, configs and scratch space live here. */
  dir: string;
  /** Registries reached over plain HTTP besides loopback ones (which always are). */
  insecureRegistries?: string[];
  storageDriver?: StorageDriver;
}

/** What a fork's PR is told when the operator runs the host builder. */
export const UNTRUSTED_REFUSED = "the host builder runs builds without VM isolation, so it does not build fork PRs: use microvm or hypeman";

/**
 * buildah on the host: no VM, the fastest path, for trusted repos and the test corpus
 * (docs/design.md section 5). Chroot isolation in a PID namespace of its own, a layer cache, OCI push with
 * the registry's own digest. Each cache scope has its own storage, run root and temp dir, so
 * no scope can build FROM another scope's local images or read its cache mounts; and code from
 * forks is refused, since nothing but chroot stands between it and the host.
 */
export class HostBuilder extends BuilderShell {
  constructor(o: HostBuilderOptions) {
    super(new HostBackend(o));
  }
}

class HostBackend implements BuildBackend {
  readonly name = "host";
  private readonly envs = new Map<string, BuildahEnv>();
  private readonly insecure: string[];
  private readonly version: string | null;
  private readonly dir: string;
  private readonly storageDriver: StorageDriver | undefined;

  constructor(o: HostBuilderOptions) {
    this.dir = o.dir;
    this.insecure = o.insecureRegistries ?? [];
    this.storageDriver = o.storageDriver;
    this.version = probeVersion();
  }

  describe(): string {
    return `${this.version ?? "buildah"} on the host, ${this.storageDriver ?? DEFAULT_STORAGE_DRIVER} storage per repository (no VM isolation: trusted repos only, fork PRs are refused)`;
  }

  /** One storage per cache scope, made on first use. */
  private scopeEnv(scope: string): BuildahEnv {
    let env = this.envs.get(scope);
    if (!env) {
      env = buildahEnv({ dir: join(this.dir, "scopes", scopeDirName(scope)), insecureRegistries: this.insecure, storageDriver: this.storageDriver });
      ensureTmp(env);
      this.envs.set(scope, env);
    }
    return env;
  }

  /** Unmounts what failed and cancelled builds left mounted; the layer caches stay on disk. */
  async close(): Promise<void> {
    for (const env of this.envs.values()) await releaseStorage(env, this.dir);
    unmountUnder(this.dir);
  }

  unexpected(err: unknown): MicroshipError {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT" && (err as NodeJS.ErrnoException).path === "buildah";
    return infraError(missing ? "buildah is not installed on this host." : `The host builder failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  async run(input: BuildInput, io: BuildIO): Promise<BuildOutput> {
    io.startDeadline();
    // Checked before anything of the build is unpacked or run.
    if (input.untrusted) {
      throw userError(`This pull request comes from a fork, and ${UNTRUSTED_REFUSED}.`, {
        title: "Fork PRs are not built by this server",
        hint: "A maintainer can push the branch to the repository itself, or the operator can switch MICROSHIP_BUILDER to microvm or hypeman.",
      });
    }
    if (!this.version) throw infraError("buildah is not installed on this host.", { title: "buildah missing", hint: "Install it with scripts/host-deps.sh (Debian: apt-get install buildah skopeo)." });
    const scope = this.scopeEnv(input.cacheScope);
    // The whole build id in the path (hence in buildah's argv) lets an operator, or a test, find
    // every process of a build with `pgrep -f <build id>`.
    const work = await mkdtemp(join(scope.env.TMPDIR!, `build-${input.buildId.replace(/[^A-Za-z0-9-]/g, "").slice(0, 64)}-`));
    try {
      const w = await prepareHostWorkdir(work, input, scope, this.insecure);
      const t0 = Date.now();
      const imageId = await budImage(input, scope, w, work, io);
      const buildMs = Date.now() - t0;
      const t1 = Date.now();
      const plainHttp = needsPlainHttp(input.imageName, this.insecure);
      const digest = await pushTags(input, imageId, { scope, w, work, plainHttp }, io);
      const pushMs = Date.now() - t1;
      const imageRef = `${input.imageName}@${digest}`;
      const base = finalBaseImage(input.dockerfile);
      return {
        imageRef,
        digest,
        tags: input.tags,
        sizeBytes: await pushedSize(imageRef, { env: w.env, plainHttp }),
        provenance: {
          sourceHash: input.source.sha256,
          lockfileHashes: await lockfileHashes(w.context),
          baseImageDigest: input.baseImageDigest ?? (base ? await baseImageDigest(scope, base) : null),
          builderVersion: this.version,
        },
        timings: { buildMs, pushMs },
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}

/** A sync probe at construction, so describe() can name the version. */
function probeVersion(): string | null {
  try {
    const out = execFileSync("buildah", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const m = /version\s+(\S+)/.exec(out);
    return m ? `buildah ${m[1]}` : out.trim();
  } catch {
    return null;
  }
}
