import { execa } from "execa";
import { infraError } from "../../core/errors.ts";
import type { BuildahEnv } from "./buildah-env.ts";

/** The environment of a buildah or skopeo process: PATH and our configs, nothing else inherited. */
export function toolEnv(env: BuildahEnv, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: env.env.TMPDIR!, ...env.env, ...extra };
}

/** `buildah <global storage flags> <args>`, for one-shot commands whose output we need whole. */
export async function runBuildah(env: BuildahEnv, args: string[], o: { input?: string } = {}): Promise<string> {
  const r = await execa("buildah", [...env.globalArgs, ...args], { env: toolEnv(env), extendEnv: false, reject: false, input: o.input });
  if (r.failed) throw buildahFailed(args, String(r.stderr || r.message), r.cause);
  return r.stdout.trim();
}

/** "buildah 1.28.2", or null when buildah is missing. */
export async function buildahVersion(): Promise<string | null> {
  const r = await execa("buildah", ["--version"], { reject: false });
  if (r.failed) return null;
  const m = /version\s+(\S+)/.exec(r.stdout);
  return m ? `buildah ${m[1]}` : r.stdout.trim();
}

function buildahFailed(args: string[], detail: string, cause: unknown) {
  const missing = (cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
  return infraError(missing ? "buildah is not installed on this host." : `buildah ${args[0]} failed: ${detail.trim().split("\n").slice(-3).join(" ")}`, {
    title: missing ? "buildah missing" : "buildah failed",
    hint: missing ? "Install the host's build tools with scripts/host-deps.sh (Debian: apt-get install buildah skopeo)." : undefined,
    cause,
  });
}
