import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { BuildInput } from "../../core/builder.ts";
import { infraError } from "../../core/errors.ts";
import type { BuildahEnv } from "../buildah/buildah-env.ts";
import { budFailure } from "../buildah/bud-failure.ts";
import type { BuildIO } from "../builder-shell.ts";
import { runStreaming } from "./run-streaming.ts";
import type { HostWorkdir } from "./host-workdir.ts";

/** Runs `buildah bud`; resolves with the image id. */
export async function budImage(input: BuildInput, scope: BuildahEnv, w: HostWorkdir, work: string, io: BuildIO): Promise<string> {
  const iidFile = join(work, "iid");
  io.system(`buildah bud (${input.noCache ? "no cache" : "layer cache on"})`);
  // RUN steps get a PID namespace of their own: with chroot isolation they would otherwise
  // see every process of the host in /proc, and `--pid private` is ignored under chroot.
  const bud = await runStreaming(...ownPidNamespace("buildah", [
    ...scope.globalArgs, "bud", "--layers", "--force-rm", "--isolation", "chroot", "--pull", "--signature-policy", scope.policyPath, "--authfile", w.authFile,
    "--format", "oci", "-f", w.dockerfile, "--iidfile", iidFile, "-t", `localhost/microship/${scopeTag(input.cacheScope)}:latest`,
    ...(input.noCache ? ["--no-cache"] : []),
    ...Object.entries(input.buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
    ...w.secretArgs, w.context,
  ]), { env: w.env, spoolDir: work, signal: input.signal, onLine: (l) => io.line(l) });
  if (input.signal.aborted) throw input.signal.reason;
  if (bud.exitCode !== 0) throw budFailure(io.tail, bud.exitCode);
  return (await readFile(iidFile, "utf8")).trim();
}

/** Pushes the image under every tag; resolves with the registry's digest. */
export async function pushTags(input: BuildInput, imageId: string, o: { scope: BuildahEnv; w: HostWorkdir; work: string; plainHttp: boolean }, io: BuildIO): Promise<string> {
  let digest: string | null = null;
  for (const tag of input.tags) {
    const digestFile = join(o.work, `digest-${tag}`);
    io.system(`pushing ${input.imageName}:${tag}`);
    const push = await runStreaming("buildah", [
      ...o.scope.globalArgs, "push", "--signature-policy", o.scope.policyPath, "--authfile", o.w.authFile, "--format", "oci", "--digestfile", digestFile,
      ...(o.plainHttp ? ["--tls-verify=false"] : []), imageId, `docker://${input.imageName}:${tag}`,
    ], { env: o.w.env, spoolDir: o.work, signal: input.signal, onLine: (l) => io.line(l) });
    if (input.signal.aborted) throw input.signal.reason;
    if (push.exitCode !== 0) throw infraError(`Pushing ${input.imageName}:${tag} failed (exit ${push.exitCode}): ${io.tail.slice(-3).map((l) => l.text).join(" | ")}`, { title: "Push failed" });
    digest ??= (await readFile(digestFile, "utf8")).trim();
  }
  if (!digest) throw infraError("The build has no tags to push.");
  return digest;
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
