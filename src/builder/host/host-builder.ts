import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { x as untar } from "tar";
import type { Builder, BuildHandle, BuildInput, BuildOutput, LogLine } from "../../core/builder.ts";
import { LogChannel } from "../log-lines.ts";
import { buildahEnv, DEFAULT_STORAGE_DRIVER, ensureTmp, writeRegistriesConf, type BuildahEnv, type StorageDriver } from "../buildah/buildah-env.ts";
import { toolEnv } from "../buildah/buildah-command.ts";
import { releaseStorage, unmountUnder } from "../buildah/release-storage.ts";
import { scopeDirName, writeAuthFile } from "../buildah/scope-storage.ts";
import { fromRegistries, isLoopbackRegistry, needsPlainHttp, registryHost } from "../../registry/registry-host.ts";
import { runStreaming } from "./run-streaming.ts";
import { budFailure } from "../buildah/bud-failure.ts";
import { baseImageDigest, finalBaseImage, lockfileHashes } from "../buildah/provenance.ts";
import { pushedSize } from "./pushed-size.ts";
import { cancelledError, infraError, isMicroshipError, timeoutError, userError } from "../../core/errors.ts";

export interface HostBuilderOptions {
  /** Storage, configs and scratch space live here. */
  dir: string;
  /** Registries reached over plain HTTP besides loopback ones (which always are). */
  insecureRegistries?: string[];
  storageDriver?: StorageDriver;
}

// Enough of the log's end to find the failing step and buildah's error line.
const TAIL_LINES = 200;

/** What a fork's PR is told when the operator runs the host builder. */
export const UNTRUSTED_REFUSED = "the host builder runs builds without VM isolation, so it does not build fork PRs: use microvm or hypeman";

/**
 * buildah on the host: no VM, the fastest path, for trusted repos and the test corpus
 * (DESIGN.md 6.3). Chroot isolation in a PID namespace of its own, a layer cache, OCI push with
 * the registry's own digest. Each cache scope has its own storage, run root and temp dir, so
 * no scope can build FROM another scope's local images or read its cache mounts; and code from
 * forks is refused, since nothing but chroot stands between it and the host.
 */
export class HostBuilder implements Builder {
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

  build(input: BuildInput): BuildHandle {
    const logs = new LogChannel();
    const result = this.run(input, logs).finally(() => logs.close());
    return { logs, result };
  }

  /** Unmounts what failed and cancelled builds left mounted; the layer caches stay on disk. */
  async close(): Promise<void> {
    for (const env of this.envs.values()) await releaseStorage(env, this.dir);
    unmountUnder(this.dir);
  }

  private async run(input: BuildInput, logs: LogChannel): Promise<BuildOutput> {
    // Checked before anything of the build is unpacked or run.
    if (input.untrusted) {
      throw userError(`This pull request comes from a fork, and ${UNTRUSTED_REFUSED}.`, {
        title: "Fork PRs are not built by this server",
        hint: "A maintainer can push the branch to the repository itself, or the operator can switch MICROSHIP_BUILDER to microvm or hypeman.",
      });
    }
    if (!this.version) throw infraError("buildah is not installed on this host.", { title: "buildah missing", hint: "Install it with scripts/host-deps.sh (Debian: apt-get install buildah skopeo)." });
    const scopeEnv = this.scopeEnv(input.cacheScope);
    const stop = stopSignal(input);
    // The whole build id in the path (hence in buildah's argv) lets an operator, or a test, find
    // every process of a build with `pgrep -f <build id>`.
    const work = await mkdtemp(join(scopeEnv.env.TMPDIR!, `build-${input.buildId.replace(/[^A-Za-z0-9-]/g, "").slice(0, 64)}-`));
    const tail: LogLine[] = [];
    const mask = secretMask(input.secrets.map((x) => x.value));
    const onLine = (raw: LogLine) => {
      const l = mask(raw);
      tail.push(l);
      if (tail.length > TAIL_LINES) tail.shift();
      logs.push(l);
    };
    try {
      const registriesConf = join(work, "registries.conf");
      const insecure = [...this.insecure, ...[...fromRegistries(input.dockerfile), registryHost(input.imageName)].filter(isLoopbackRegistry)];
      writeRegistriesConf(registriesConf, insecure);
      // The push credential goes in a file, never in argv, which every process can read in /proc.
      const authFile = join(work, "auth.json");
      await writeAuthFile(authFile, input.registryAuth ? { [registryHost(input.imageName)]: input.registryAuth } : {});
      const env = toolEnv(scopeEnv, { HOME: work, CONTAINERS_REGISTRIES_CONF: registriesConf, REGISTRIES_CONFIG_PATH: registriesConf, REGISTRY_AUTH_FILE: authFile });
      const ctx = join(work, "context");
      await mkdir(ctx);
      await untar({ file: input.source.path, cwd: ctx, strict: true, preservePaths: false });
      // Always the text we were given, even when the archive has its own Dockerfile.
      const dockerfile = join(work, "Dockerfile.microship");
      await writeFile(dockerfile, input.dockerfile);
      const secretArgs: string[] = [];
      for (const s of input.secrets) {
        const f = join(work, `secret-${createHash("sha256").update(s.id).digest("hex").slice(0, 12)}`);
        await writeFile(f, s.value, { mode: 0o600 });
        secretArgs.push("--secret", `id=${s.id},src=${f}`);
      }
      const iidFile = join(work, "iid");
      const t0 = Date.now();
      logs.system(`buildah bud (${input.noCache ? "no cache" : "layer cache on"})`);
      // RUN steps get a PID namespace of their own: with chroot isolation they would otherwise
      // see every process of the host in /proc, and `--pid private` is ignored under chroot.
      const bud = await runStreaming(...ownPidNamespace("buildah", [
        ...scopeEnv.globalArgs, "bud", "--layers", "--force-rm", "--isolation", "chroot", "--pull", "--signature-policy", scopeEnv.policyPath, "--authfile", authFile,
        "--format", "oci", "-f", dockerfile, "--iidfile", iidFile, "-t", `localhost/microship/${scopeTag(input.cacheScope)}:latest`,
        ...(input.noCache ? ["--no-cache"] : []),
        ...Object.entries(input.buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
        ...secretArgs, ctx,
      ]), { env, spoolDir: work, signal: stop.signal, onLine });
      if (stop.signal.aborted) throw stop.signal.reason;
      if (bud.exitCode !== 0) throw budFailure(tail, bud.exitCode);
      const imageId = (await readFile(iidFile, "utf8")).trim();
      const buildMs = Date.now() - t0;

      const t1 = Date.now();
      const plainHttp = needsPlainHttp(input.imageName, this.insecure);
      let digest: string | null = null;
      for (const tag of input.tags) {
        const digestFile = join(work, `digest-${tag}`);
        logs.system(`pushing ${input.imageName}:${tag}`);
        const push = await runStreaming("buildah", [
          ...scopeEnv.globalArgs, "push", "--signature-policy", scopeEnv.policyPath, "--authfile", authFile, "--format", "oci", "--digestfile", digestFile,
          ...(plainHttp ? ["--tls-verify=false"] : []), imageId, `docker://${input.imageName}:${tag}`,
        ], { env, spoolDir: work, signal: stop.signal, onLine });
        if (stop.signal.aborted) throw stop.signal.reason;
        if (push.exitCode !== 0) throw infraError(`Pushing ${input.imageName}:${tag} failed (exit ${push.exitCode}): ${tail.slice(-3).map((l) => l.text).join(" | ")}`, { title: "Push failed" });
        digest ??= (await readFile(digestFile, "utf8")).trim();
      }
      const pushMs = Date.now() - t1;
      if (!digest) throw infraError("The build has no tags to push.");
      const imageRef = `${input.imageName}@${digest}`;
      const base = finalBaseImage(input.dockerfile);
      return {
        imageRef,
        digest,
        tags: input.tags,
        sizeBytes: await pushedSize(imageRef, { env, plainHttp }),
        provenance: {
          sourceHash: input.source.sha256,
          lockfileHashes: await lockfileHashes(ctx),
          baseImageDigest: input.baseImageDigest ?? (base ? await baseImageDigest(scopeEnv, base) : null),
          builderVersion: this.version,
        },
        timings: { buildMs, pushMs },
      };
    } catch (err) {
      if (stop.signal.aborted) throw stop.signal.reason;
      if (isMicroshipError(err)) throw err;
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT" && (err as NodeJS.ErrnoException).path === "buildah";
      throw infraError(missing ? "buildah is not installed on this host." : `The host builder failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      stop.dispose();
      await rm(work, { recursive: true, force: true });
    }
  }
}

/** One signal for both ways a build is stopped; its reason is the typed error to reject with. */
function stopSignal(input: BuildInput): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(cancelledError("The build was cancelled.", { title: "Build cancelled" }));
  if (input.signal.aborted) onAbort();
  else input.signal.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(timeoutError(`The build took longer than its ${input.timeoutSeconds} s limit.`, {
    title: `Build timed out after ${input.timeoutSeconds} s`,
    hint: "Make the build faster, or raise `timeout` in .github/microship.yml.",
  })), Math.min(input.timeoutSeconds * 1000, 2 ** 31 - 1));
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      input.signal.removeEventListener("abort", onAbort);
    },
  };
}

/** A build that prints a secret gets it masked before the line goes anywhere. */
function secretMask(values: string[]): (l: LogLine) => LogLine {
  const secrets = values.filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (l) => l;
  return (l) => (secrets.some((s) => l.text.includes(s)) ? { ...l, text: secrets.reduce((t, s) => t.replaceAll(s, "***"), l.text) } : l);
}

/** A local tag per cache scope, so the newest image of a scope has a name in storage. */
function scopeTag(scope: string): string {
  return scope.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "default";
}

/**
 * `unshare --pid --fork --mount-proc` (util-linux): the command is PID 1 of a new PID namespace
 * with its own /proc, which buildah's chroot runtime then binds into every RUN step; the RUN
 * step sees buildah and itself, never the host's processes or their environment. --kill-child
 * takes the namespace down with unshare.
 */
function ownPidNamespace(command: string, args: string[]): [string, string[]] {
  if (!existsSync("/usr/bin/unshare")) throw infraError("unshare (util-linux) is missing on this host.", { title: "unshare missing" });
  return ["/usr/bin/unshare", ["--pid", "--fork", "--kill-child", "--mount-proc", command, ...args]];
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
