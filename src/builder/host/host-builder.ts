import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { x as untar } from "tar";
import { execa } from "execa";
import type { Builder, BuildHandle, BuildInput, BuildOutput, LogLine } from "../builder.ts";
import { LogChannel } from "../log-lines.ts";
import { buildahEnv, ensureTmp, type BuildahEnv } from "../buildah/buildah-env.ts";
import { runStreaming } from "./run-streaming.ts";
import { cancelledError, infraError, timeoutError, userError, isMicroshipError } from "../../core/errors.ts";

export interface HostBuilderOptions {
  /** Storage, configs and scratch space live here. */
  dir: string;
  insecureRegistries?: string[];
  storageDriver?: "vfs" | "overlay";
}

const LOCKFILES = ["package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock", "bun.lockb", "bun.lock", "uv.lock", "poetry.lock", "Pipfile.lock", "pdm.lock", "requirements.txt"];

/**
 * buildah on the host: no VM, the fastest path, for trusted repos and the test corpus
 * (DESIGN.md 6.3). Its own storage root, chroot isolation, layer cache, OCI push with the
 * registry's digest.
 */
export class HostBuilder implements Builder {
  readonly name = "host";
  private readonly env: BuildahEnv;
  private readonly dir: string;
  private version = "buildah";

  constructor(o: HostBuilderOptions) {
    this.dir = o.dir;
    this.env = buildahEnv({ dir: o.dir, insecureRegistries: o.insecureRegistries, storageDriver: o.storageDriver });
    ensureTmp(this.env);
    try {
      this.version = execaSyncVersion();
    } catch {
      // reported when a build runs
    }
  }

  describe(): string {
    return `${this.version} on the host, chroot isolation (no VM: for trusted repositories)`;
  }

  build(input: BuildInput): BuildHandle {
    const logs = new LogChannel();
    const result = this.run(input, logs).finally(() => logs.close());
    return { logs, result };
  }

  private async run(input: BuildInput, logs: LogChannel): Promise<BuildOutput> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(input.signal.reason ?? cancelledError("The build was cancelled."));
    if (input.signal.aborted) onAbort();
    input.signal.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(timeoutError(`The build took longer than its ${input.timeoutSeconds} s limit.`, {
      title: `Build timed out after ${input.timeoutSeconds} s`,
      hint: "Make the build faster, or raise `timeout` in .github/microship.yml.",
    })), input.timeoutSeconds * 1000);
    const work = await mkdtemp(join(this.env.env.TMPDIR!, `build-${input.buildId.slice(0, 8)}-`));
    const procEnv = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: work, ...this.env.env };
    const lines: LogLine[] = [];
    const onLine = (l: LogLine) => {
      lines.push(l);
      if (lines.length > 200) lines.shift();
      logs.push(l);
    };
    try {
      const ctx = join(work, "context");
      await execa("mkdir", ["-p", ctx]);
      await untar({ file: input.source.path, cwd: ctx, strict: true, preservePaths: false });
      const dockerfile = join(work, "Dockerfile.microship");
      await writeFile(dockerfile, input.dockerfile);
      const secretArgs: string[] = [];
      for (const s of input.secrets) {
        const f = join(work, `secret-${createHash("sha256").update(s.id).digest("hex").slice(0, 12)}`);
        await writeFile(f, s.value, { mode: 0o600 });
        secretArgs.push("--secret", `id=${s.id},src=${f}`);
      }
      const local = `localhost/microship-build:${input.buildId}`;
      const t0 = Date.now();
      logs.system(`buildah bud (${input.noCache ? "no cache" : "layer cache on"})`);
      const bud = await runStreaming("buildah", [
        ...this.env.globalArgs, "bud", "--layers", "--isolation", "chroot", "--signature-policy", this.env.policyPath,
        "--format", "oci", "-f", dockerfile, "-t", local,
        ...(input.noCache ? ["--no-cache"] : []),
        ...Object.entries(input.buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
        ...secretArgs, ctx,
      ], { env: procEnv, signal: controller.signal, onLine });
      if (controller.signal.aborted) throw controller.signal.reason;
      if (bud.exitCode !== 0) throw budFailure(lines, bud.exitCode);
      const buildMs = Date.now() - t0;

      const t1 = Date.now();
      let digest = "";
      for (const tag of input.tags) {
        const digestFile = join(work, `digest-${tag}`);
        logs.system(`pushing ${input.imageName}:${tag}`);
        const push = await runStreaming("buildah", [
          ...this.env.globalArgs, "push", "--signature-policy", this.env.policyPath, "--format", "oci", "--digestfile", digestFile, local, `docker://${input.imageName}:${tag}`,
        ], { env: procEnv, signal: controller.signal, onLine });
        if (controller.signal.aborted) throw controller.signal.reason;
        if (push.exitCode !== 0) throw infraError(`pushing ${input.imageName}:${tag} failed (exit ${push.exitCode}): ${lastLines(lines, 3)}`);
        digest = (await readFile(digestFile, "utf8")).trim();
      }
      const pushMs = Date.now() - t1;
      await execa("buildah", [...this.env.globalArgs, "rmi", local], { env: procEnv, reject: false });
      return {
        imageRef: `${input.imageName}@${digest}`,
        digest,
        tags: input.tags,
        sizeBytes: await this.imageSize(`${input.imageName}@${digest}`, procEnv),
        provenance: { sourceHash: input.source.sha256, lockfileHashes: await lockfileHashes(ctx), baseImageDigest: input.baseImageDigest, builderVersion: this.version },
        timings: { buildMs, pushMs },
      };
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (isMicroshipError(err)) throw err;
      throw infraError(`the host builder failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      input.signal.removeEventListener("abort", onAbort);
      await rm(work, { recursive: true, force: true });
    }
  }

  private async imageSize(ref: string, env: Record<string, string>): Promise<number | null> {
    const r = await execa("skopeo", ["inspect", "--raw", `docker://${ref}`], { env, reject: false });
    if (r.exitCode !== 0) return null;
    try {
      const m = JSON.parse(r.stdout) as { config?: { size?: number }; layers?: { size?: number }[] };
      return (m.config?.size ?? 0) + (m.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0);
    } catch {
      return null;
    }
  }
}

/** A sync probe at construction, so the summary can name the builder's version. */
function execaSyncVersion(): string {
  return execFileSync("buildah", ["--version"], { encoding: "utf8" }).split(" (")[0]!.trim();
}

/** The build's own failure is the user's: name the step, keep the lines that say why. */
function budFailure(lines: LogLine[], exitCode: number | null) {
  const step = [...lines].reverse().find((l) => /^STEP \d+\/\d+: /.test(l.text))?.text ?? null;
  const why = [...lines].reverse().find((l) => /^(error|Error:)/.test(l.text))?.text ?? `buildah exited with ${exitCode}`;
  if (/no such host|connection refused|i\/o timeout|manifest unknown|unauthorized/i.test(why) && step?.includes("FROM")) {
    return userError(`The base image could not be pulled: ${why}`, { title: "Base image not found", hint: "Check the FROM line (or `base_image` in .github/microship.yml) names an image the builder can pull." });
  }
  return userError(step ? `${step} failed: ${why}` : why, {
    title: "Build step failed",
    hint: step ? `Fix the command in \`${step.replace(/^STEP \d+\/\d+: /, "")}\`; the log above shows its output.` : "The log above shows what failed.",
  });
}

function lastLines(lines: LogLine[], n: number): string {
  return lines.slice(-n).map((l) => l.text).join(" | ");
}

async function lockfileHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of LOCKFILES) {
    const p = join(dir, f);
    if (existsSync(p)) out[f] = `sha256:${createHash("sha256").update(await readFile(p)).digest("hex")}`;
  }
  return out;
}
