import { createHash } from "node:crypto";
import { MAX_NAME, slugify } from "../../core/deploy/instance-name.ts";
import type { DeploymentKey } from "../../core/deployer.ts";

/**
 * A deployment's stable host label: `{slug}-{app}-{repo}-{hash6}` (e.g. `pr-12-web-shop-1a2b3c`),
 * one DNS label of at most 63 characters. The hash of the full identity (owner included) keeps two
 * owners' repos of one name apart. Every version of the deployment answers here; the route moves.
 */
export function deploymentName(k: DeploymentKey): string {
  const identity = `${k.owner}/${k.repo}/${k.app ?? ""}/${k.target.slug}`;
  const tail = `-${createHash("sha256").update(identity).digest("hex").slice(0, 6)}`;
  const readable = slugify([k.target.slug, k.app, k.repo].filter(Boolean).join("-")).slice(0, MAX_NAME - tail.length);
  return `${(readable.endsWith("-") ? readable.slice(0, -1) : readable) || "app"}${tail}`;
}

/** One VM of the deployment: its name plus the image's digest (12 hex). */
export const vmInstanceName = (name: string, digest: string) => `${name}-${(digest.split(":").pop() ?? digest).slice(0, 12)}`;

/** Whether `instance` is one this deployer names for `name` and `digest`: the digest's own, or a redeploy's fresh generation of it. */
export function isInstanceOf(instance: string, name: string, digest: string): boolean {
  if (instance === vmInstanceName(name, digest)) return true;
  const hex = digest.split(":").pop() ?? digest;
  const prefix = `${name}-${hex.slice(0, 6)}`;
  const rest = instance.slice(prefix.length);
  return instance.startsWith(prefix) && rest.length === 6 && [...rest].every((c) => "0123456789abcdef".includes(c));
}
