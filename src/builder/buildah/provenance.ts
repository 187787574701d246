import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import type { BuildahEnv } from "./buildah-env.ts";
import { toolEnv } from "./buildah-command.ts";

/** Lockfiles of the ecosystems we detect, hashed when present at the context root. */
export const LOCKFILES = [
  "package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock", "bun.lockb", "bun.lock",
  "uv.lock", "poetry.lock", "Pipfile.lock", "pdm.lock", "requirements.txt",
];

export async function lockfileHashes(contextDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of LOCKFILES) {
    const p = join(contextDir, f);
    if (existsSync(p)) out[f] = `sha256:${createHash("sha256").update(await readFile(p)).digest("hex")}`;
  }
  return out;
}

/**
 * The image the final stage starts from, as written, when it is a plain reference: not a
 * previous stage, not built from a build arg.
 */
export function finalBaseImage(dockerfile: string): string | null {
  const froms = [...dockerfile.matchAll(/^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/gim)];
  const stages = new Set(froms.map((m) => m[2]?.toLowerCase()).filter(Boolean));
  const last = froms.at(-1)?.[1];
  if (!last || last.includes("$") || last === "scratch" || stages.has(last.toLowerCase())) return null;
  return last;
}

/** The digest the base was pulled by, from local storage (buildah pulled it moments ago). */
export async function baseImageDigest(env: BuildahEnv, image: string): Promise<string | null> {
  const at = image.indexOf("@sha256:");
  if (at !== -1) return image.slice(at + 1);
  const r = await execa("buildah", [...env.globalArgs, "images", "--digests", "--format", "{{.Digest}}", image], { env: toolEnv(env), extendEnv: false, reject: false });
  const digest = r.failed ? null : r.stdout.split("\n").map((s) => s.trim()).find((s) => s.startsWith("sha256:"));
  return digest ?? null;
}
