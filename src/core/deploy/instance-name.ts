import { createHash, randomBytes } from "node:crypto";

/** Hypeman's limit on a name, and its rule: `^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`. */
export const MAX_NAME = 63;

const isAlnum = (c: string) => (c >= "a" && c <= "z") || (c >= "0" && c <= "9");

/** Checks Hypeman's name rule with one pass over the characters (no regex to backtrack on). */
export function isValidName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME) return false;
  if (!isAlnum(name[0]!) || !isAlnum(name[name.length - 1]!)) return false;
  for (const c of name) if (!isAlnum(c) && c !== "-") return false;
  return true;
}

/** Lowercases, turns every run of other characters into one '-', and trims '-' at both ends. */
export function slugify(text: string, maxLength = 1024): string {
  let out = "";
  for (const raw of text.slice(0, maxLength).toLowerCase()) {
    const c = isAlnum(raw) ? raw : "-";
    if (c === "-" && (out.length === 0 || out.endsWith("-"))) continue;
    out += c;
  }
  return out.endsWith("-") ? out.slice(0, -1) : out;
}

const hash = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length);

/**
 * A deployment's instance name: `{app}-{repo}-{slug}-{generation}`, readable where it fits.
 * A hash of the full identity (owner included) always ends the base, so two owners' repos of
 * one name never share an instance; a long base is cut to make room for it.
 */
export function instanceName(o: { owner: string; repo: string; app: string | null; slug: string; generation: string }): string {
  const identity = `${o.owner}/${o.repo}/${o.app ?? ""}/${o.slug}`;
  const generation = slugify(o.generation).slice(0, 12) || "0";
  const tail = `-${hash(identity, 6)}-${generation}`;
  const readable = slugify([o.app, o.repo, o.slug].filter(Boolean).join("-")).slice(0, MAX_NAME - tail.length);
  const base = readable.endsWith("-") ? readable.slice(0, -1) : readable;
  return `${base || "app"}${tail}`;
}

/** The name before its generation: what every instance of one deployment starts with. */
export function deploymentPrefix(name: string): string {
  return name.slice(0, name.lastIndexOf("-") + 1);
}

/**
 * A generation for a redeploy of the image that serves: the digest's first 6 hex and 6 random
 * hex, so the fresh instance's name differs from the serving one's (12 characters, no '-').
 */
export function freshGeneration(digest: string): string {
  return `${(digest.split(":").pop() ?? digest).slice(0, 6)}${randomBytes(3).toString("hex")}`;
}
