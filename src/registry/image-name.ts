import type { BuildPlan, BuildRequest } from "../core/types.ts";
import type { ImageNamer, ImageTarget } from "../core/ports.ts";

/** A tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} in the distribution spec. */
export function sanitizeTag(raw: string, fallback = "branch"): string {
  let tag = raw
    .normalize("NFKD")
    .replace(/[^\x00-\x7f]/g, "")
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[.-]+/, "")
    .replace(/[.-]+$/, "");
  if (tag.length > 128) tag = tag.slice(0, 128).replace(/[.-]+$/, "");
  return tag.length > 0 ? tag : fallback;
}

/** Repository path components are lowercase [a-z0-9] runs joined by . _ __ or dashes. */
export function sanitizeComponent(raw: string): string {
  const c = raw
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+|[._-]+$/g, "")
    .replace(/[._-]{2,}/g, (m) => (m === "__" ? m : m[0]!));
  return c.length > 0 ? c : "app";
}

/**
 * `{registry}/{owner}/{repo}[/{app}]`, tagged with the sha, plus the sanitised branch for pushes
 * and `pr-{n}` for pull requests (DESIGN.md 5). A config `image` template may rename it.
 */
export class RegistryImageNamer implements ImageNamer {
  private readonly registry: string;

  constructor(registry: string) {
    this.registry = registry.replace(/\/+$/, "");
  }

  target(request: BuildRequest, plan: BuildPlan): ImageTarget {
    const owner = sanitizeComponent(request.owner);
    const repo = sanitizeComponent(request.repo);
    const app = plan.app ? sanitizeComponent(plan.app) : null;
    const path = plan.imageTemplate
      ? plan.imageTemplate.replaceAll("{owner}", owner).replaceAll("{repo}", repo).replaceAll("{app}", app ?? "").split("/").filter(Boolean).map(sanitizeComponent).join("/")
      : [owner, repo, app].filter(Boolean).join("/");
    const tags = [request.sha];
    if (request.pr) tags.push(`pr-${request.pr.number}`);
    else if (request.branch && request.trigger === "push") tags.push(sanitizeTag(request.branch));
    return { imageName: `${this.registry}/${path}`, tags: [...new Set(tags)] };
  }
}
