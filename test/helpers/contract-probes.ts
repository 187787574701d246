import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import type { RegistryCredential } from "../../src/core/ports.ts";

const run = promisify(execFile);

/** Lowercase letters and digits only: safe in a tag, a path, a shell word and a pgrep pattern. */
export function uniqueId(): string {
  return `c${randomBytes(8).toString("hex")}`;
}

/** skopeo's flag for a registry credential (tests only: in argv, the password is in /proc). */
export function skopeoCreds(auth: RegistryCredential | null | undefined, flag = "--creds"): string[] {
  return auth ? [flag, `${auth.username}:${auth.password}`] : [];
}

/** What `skopeo inspect` says the digest of repo:tag is, over plain HTTP. */
export async function registryDigest(registry: string, repo: string, tag: string, auth?: RegistryCredential | null): Promise<string> {
  const { stdout } = await run("skopeo", ["inspect", "--tls-verify=false", ...skopeoCreds(auth), "--format", "{{.Digest}}", `docker://${registry}/${repo}:${tag}`]);
  return stdout.trim();
}

/**
 * Processes whose command line holds any of the markers, other than ours. Polls for up to 3 s,
 * because a killed process may take a moment to be reaped.
 */
export async function leftoverProcesses(markers: string[]): Promise<string[]> {
  let found: string[] = [];
  for (let i = 0; i < 15; i++) {
    found = [];
    for (const m of markers) {
      const r = await run("pgrep", ["-a", "-f", m]).catch((err: { code?: number; stdout?: string }) => ({ stdout: err.code === 1 ? "" : String(err.stdout ?? "") }));
      found.push(...r.stdout.split("\n").filter((l) => l.trim() && !l.startsWith(`${process.pid} `)));
    }
    if (found.length === 0) return [];
    await new Promise((r) => setTimeout(r, 200));
  }
  return found;
}
