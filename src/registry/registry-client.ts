import { isLoopbackRegistry } from "./registry-host.ts";
import { infraError } from "../core/errors.ts";
import type { RegistryCredential } from "../core/ports.ts";

/** Every manifest kind we push or read: OCI first (we push OCI), then Docker's. */
const ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

export interface RegistryClientOptions {
  /** Plain HTTP; the default is HTTP for loopback registries and HTTPS for the rest. */
  plainHttp?: boolean;
  fetch?: typeof fetch;
  /** HTTP Basic credentials (the embedded registry's front needs them for everything). */
  auth?: RegistryCredential | null;
}

/** The `Authorization` header for a credential, or nothing. */
export function basicAuth(auth: RegistryCredential | null | undefined): Record<string, string> {
  return auth ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` } : {};
}

function base(registry: string, o: RegistryClientOptions): string {
  return `${o.plainHttp ?? isLoopbackRegistry(registry) ? "http" : "https"}://${registry}/v2`;
}

/** The registry's own digest of a manifest (HEAD, Docker-Content-Digest), or null when it has none by that name. */
export async function manifestDigest(registry: string, repository: string, reference: string, o: RegistryClientOptions = {}): Promise<string | null> {
  const r = await (o.fetch ?? fetch)(`${base(registry, o)}/${repository}/manifests/${reference}`, { method: "HEAD", headers: { accept: ACCEPT, ...basicAuth(o.auth) } });
  if (r.status === 404) return null;
  if (!r.ok) throw infraError(`The registry ${registry} answered ${r.status} for ${repository}:${reference}.`);
  return r.headers.get("docker-content-digest");
}

export interface ManifestInfo {
  digest: string | null;
  mediaType: string | null;
  /** Config plus layers, as stored (compressed): what a pull transfers. */
  sizeBytes: number;
}

/** A manifest's digest and the size of the image it describes, or null when missing. */
export async function manifestInfo(registry: string, repository: string, reference: string, o: RegistryClientOptions = {}): Promise<ManifestInfo | null> {
  const r = await (o.fetch ?? fetch)(`${base(registry, o)}/${repository}/manifests/${reference}`, { headers: { accept: ACCEPT, ...basicAuth(o.auth) } });
  if (r.status === 404) return null;
  if (!r.ok) throw infraError(`The registry ${registry} answered ${r.status} for ${repository}:${reference}.`);
  const m = (await r.json()) as { mediaType?: string; config?: { size?: number }; layers?: { size?: number }[] };
  return {
    digest: r.headers.get("docker-content-digest"),
    mediaType: m.mediaType ?? r.headers.get("content-type"),
    sizeBytes: (m.config?.size ?? 0) + (m.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0),
  };
}

/** The tags of a repository; empty when the repository doesn't exist. */
export async function listTags(registry: string, repository: string, o: RegistryClientOptions = {}): Promise<string[]> {
  const r = await (o.fetch ?? fetch)(`${base(registry, o)}/${repository}/tags/list`, { headers: basicAuth(o.auth) });
  if (r.status === 404) return [];
  if (!r.ok) throw infraError(`The registry ${registry} answered ${r.status} listing the tags of ${repository}.`);
  const body = (await r.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}

/**
 * Points `tag` at the manifest `digest` names, through the registry's API: a tag is only a name,
 * so nothing is pulled or pushed but the manifest itself.
 */
export async function tagManifest(registry: string, repository: string, digest: string, tag: string, o: RegistryClientOptions = {}): Promise<void> {
  const f = o.fetch ?? fetch;
  const url = `${base(registry, o)}/${repository}/manifests`;
  const got = await f(`${url}/${digest}`, { headers: { accept: ACCEPT, ...basicAuth(o.auth) } });
  if (!got.ok) throw infraError(`The registry ${registry} answered ${got.status} for ${repository}@${digest}.`);
  const body = Buffer.from(await got.arrayBuffer());
  const put = await f(`${url}/${tag}`, { method: "PUT", headers: { "content-type": got.headers.get("content-type") ?? "application/vnd.oci.image.manifest.v1+json", ...basicAuth(o.auth) }, body });
  if (!put.ok) throw infraError(`The registry ${registry} answered ${put.status} tagging ${repository}:${tag}.`);
}
