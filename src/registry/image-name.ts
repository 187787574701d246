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
    .replace(/[._-]{2,}/g, (m) => (m === "__" ? m : /^-+$/.test(m) ? "-" : m[0]!))
    .replace(/^[._-]+|[._-]+$/g, "");
  return c.length > 0 ? c : fallback;
}

export interface ImagePathParts {
  owner: string;
  repo: string;
  app: string | null;
  /** From the repo config's `image`: a path under the registry, with {owner}, {repo} and {app}. */
  template?: string | null;
}

/**
 * `{owner}/{repo}[/{app}]`, or the config's template. The template only names a path under the
 * configured registry: a repository never chooses where its images are pushed.
 */
export function imagePath(p: ImagePathParts): string {
  const owner = sanitizeComponent(p.owner);
  const repo = sanitizeComponent(p.repo);
  const app = p.app ? sanitizeComponent(p.app) : null;
  if (!p.template) return [owner, repo, app].filter(Boolean).join("/");
  const filled = p.template.replaceAll("{owner}", owner).replaceAll("{repo}", repo).replaceAll("{app}", app ?? "");
  const parts = filled.split("/").map((s) => s.trim()).filter(Boolean).map((s) => sanitizeComponent(s, ""));
  const path = parts.filter(Boolean).join("/");
  return path.length > 0 ? path : [owner, repo, app].filter(Boolean).join("/");
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

/** Image names and tags per DESIGN.md 5, under one registry (`host[:port][/prefix]`). */
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
