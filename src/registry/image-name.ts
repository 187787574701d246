import type { BuildPlan, BuildRequest } from "../core/types.ts";
import type { ImageNamer, ImageTarget } from "../core/ports.ts";

const MAX_TAG = 128;

/**
 * A git branch as an image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}` in the distribution spec.
 * Accents are folded, anything else becomes `-`, and a name with nothing left becomes `fallback`.
 * A result that looks like a commit sha is prefixed, so a branch can never overwrite a sha tag.
 */
export function sanitizeTag(raw: string, fallback = "branch"): string {
  let tag = raw
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[.-]+/, "")
    .replace(/[.-]+$/, "");
  if (/^[0-9a-f]{40}$/.test(tag)) tag = `branch-${tag}`;
  if (tag.length > MAX_TAG) tag = tag.slice(0, MAX_TAG).replace(/[.-]+$/, "");
  return tag.length > 0 ? tag : fallback;
}

/**
 * One path component of a repository name: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, lowercased.
 */
export function sanitizeComponent(raw: string, fallback = "app"): string {
  const c = raw
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    // Distribution allows `-+` and `__`; any other run keeps its first character.
    .replace(/[._-]{2,}/g, (m) => (m === "__" || /^-+$/.test(m) ? m : m[0]!))
    .replace(/^[._-]+|[._-]+$/g, "");
  return c.length > 0 ? c : fallback;
}

export interface ImagePathParts {
  owner: string;
  repo: string;
  app: string | null;
  /** The repo config's `image`: a path below `{owner}/{repo}`, with {owner}, {repo} and {app}. */
  template?: string | null;
}

// Distribution's limit is 255 for the whole name; the registry's host and prefix need some.
const MAX_SUFFIX = 128;
const MAX_SUFFIX_COMPONENTS = 4;

/** `{owner}/{repo}`: the namespace a repository's images, and its build credential, are bound to. */
export function repoNamespace(owner: string, repo: string): string {
  return `${sanitizeComponent(owner)}/${sanitizeComponent(repo)}`;
}

/**
 * `{owner}/{repo}[/{app}]`, or `{owner}/{repo}/{suffix}` from the config's `image`. The suffix is
 * only ever appended below the repository's own namespace: `..`, a leading `/`, a host or a
 * `{owner}` placeholder are components under it, never a way out of it. A leading
 * `{owner}/{repo}` is dropped, since it is implied, so `{owner}/{repo}/{app}` keeps its meaning.
 */
export function imagePath(p: ImagePathParts): string {
  const ns = repoNamespace(p.owner, p.repo);
  const app = p.app ? sanitizeComponent(p.app) : null;
  if (!p.template) return app ? `${ns}/${app}` : ns;
  const template = p.template.trim();
  const implied = /^\/*\{owner\}\/+\{repo\}(?:\/|$)/.exec(template);
  const rest = implied ? template.slice(implied[0].length) : template;
  const filled = rest.slice(0, 4 * MAX_SUFFIX).replaceAll("{owner}", sanitizeComponent(p.owner)).replaceAll("{repo}", sanitizeComponent(p.repo)).replaceAll("{app}", app ?? "");
  const parts = filled.split("/").map((s) => sanitizeComponent(s, "")).filter(Boolean).slice(0, MAX_SUFFIX_COMPONENTS);
  let suffix = parts.join("/");
  if (suffix.length > MAX_SUFFIX) suffix = suffix.slice(0, MAX_SUFFIX).replace(/[/._-]+$/, "");
  return suffix ? `${ns}/${suffix}` : ns;
}

export interface TagParts {
  sha: string;
  trigger: BuildRequest["trigger"];
  branch: string | null;
  prNumber: number | null;
}

/** Always the sha; then `pr-{n}` for pull requests, or the sanitised branch for pushes. */
export function imageTags(t: TagParts): string[] {
  const tags = [t.sha];
  if (t.prNumber !== null) tags.push(`pr-${t.prNumber}`);
  else if (t.branch && t.trigger === "push") tags.push(sanitizeTag(t.branch));
  return [...new Set(tags)];
}

/** Image names and tags (docs/design.md section 4), under one registry (`host[:port][/prefix]`). */
export class RegistryImageNamer implements ImageNamer {
  private readonly registry: string;

  constructor(registry: string) {
    this.registry = registry.replace(/\/+$/, "");
  }

  target(request: BuildRequest, plan: BuildPlan): ImageTarget {
    const path = imagePath({ owner: request.owner, repo: request.repo, app: plan.app, template: plan.imageTemplate });
    const tags = imageTags({ sha: request.sha, trigger: request.trigger, branch: request.branch, prNumber: request.pr?.number ?? null });
    return { imageName: `${this.registry}/${path}`, tags };
  }
}
