import type { BuildInput } from "../builder.ts";
import { registryHost } from "../../registry/registry-host.ts";

/**
 * The text parts of `POST /builds` (DESIGN.md 6.1); the source file goes beside them.
 * Unknown parts are ignored by servers that don't know them, so old and new servers get the same
 * request: `runtime` for the seed's older API, `image_name` and `tags` for newer ones.
 */
export interface CreateFields {
  /** Also written at the tarball's root: servers build the tarball's own Dockerfile when it has one. */
  dockerfile: string;
  timeout_seconds: number;
  /** Absent for no-cache builds: without a scope the server neither imports nor exports a cache. */
  cache_scope?: string;
  runtime?: string;
  /** JSON `[{"id": ...}]`: references only; the values live in the server's own secret store. */
  secrets?: string;
  /** `{path under the registry}:{first tag}`; the server pushes to `{its registry}/{image_name}`. */
  image_name?: string;
  /** JSON object of metadata labels (Hypeman's resource tags), not image tags. */
  tags: string;
  base_image_digest?: string;
  /** JSON object; servers that take no build args ignore it. */
  build_args?: string;
}

// Hypeman's metadata tags allow these characters, up to 256 per value.
const TAG_VALUE = /[^A-Za-z0-9 _.:\/=+@-]/g;
const TAG_MAX = 256;

export function createFields(input: BuildInput): CreateFields {
  const fields: CreateFields = {
    dockerfile: input.dockerfile,
    timeout_seconds: input.timeoutSeconds,
    tags: JSON.stringify(metadataTags(input)),
  };
  if (!input.noCache && input.cacheScope) fields.cache_scope = input.cacheScope;
  if (input.runtime) fields.runtime = input.runtime;
  if (input.secrets.length > 0) fields.secrets = JSON.stringify(input.secrets.map((s) => ({ id: s.id })));
  const path = repositoryPath(input.imageName);
  if (input.tags[0]) fields.image_name = `${path}:${input.tags[0]}`;
  if (input.baseImageDigest) fields.base_image_digest = input.baseImageDigest;
  if (Object.keys(input.buildArgs).length > 0) fields.build_args = JSON.stringify(input.buildArgs);
  return fields;
}

/** `registry:5000/team/app` → `team/app`; a name without a registry is kept as it is. */
export function repositoryPath(imageName: string): string {
  const host = registryHost(imageName);
  return imageName.startsWith(`${host}/`) ? imageName.slice(host.length + 1) : imageName;
}

/** Labels an operator can list builds by (`GET /builds?tags[microship.build]=...`). */
function metadataTags(input: BuildInput): Record<string, string> {
  const tags: Record<string, string> = { "microship.build": clip(input.buildId) };
  const imageTags = clip(input.tags.join(" "));
  if (imageTags) tags["microship.image_tags"] = imageTags;
  return tags;
}

function clip(value: string): string {
  const clean = value.replace(TAG_VALUE, "-");
  if (clean.length <= TAG_MAX) return clean;
  // Whole words only: a cut tag would name an image that doesn't exist.
  return clean.slice(0, TAG_MAX + 1).replace(/\s+\S*$/, "");
}
