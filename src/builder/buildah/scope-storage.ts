import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import type { RegistryCredential } from "../../core/ports.ts";

/**
 * The directory of one cache scope's storage: a readable part of the scope for operators, and a
 * hash of the whole scope, so that scopes which read alike (`a/b-c` and `a/b/c`) never share one
 * and the name stays short whatever the scope.
 */
export function scopeDirName(scope: string): string {
  const readable = scope.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 40).replace(/^-+|-+$/g, "");
  const hash = createHash("sha256").update(scope).digest("hex").slice(0, 16);
  return readable ? `${readable}-${hash}` : hash;
}

/**
 * A containers-auth.json (the format of `--authfile` and REGISTRY_AUTH_FILE) readable only by
 * us: the password never appears in a process's argv, which any process can read in /proc.
 */
export async function writeAuthFile(path: string, creds: Record<string, RegistryCredential>): Promise<void> {
  const auths = Object.fromEntries(Object.entries(creds).map(([host, c]) => [host, { auth: Buffer.from(`${c.username}:${c.password}`).toString("base64") }]));
  await writeFile(path, JSON.stringify({ auths }), { mode: 0o600 });
}
