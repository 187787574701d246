import { createHash, randomBytes } from "node:crypto";
import type { RegistryCredential } from "../../src/core/ports.ts";
import { basicAuth } from "../../src/registry/registry-client.ts";

/** One request to a registry, with or without a credential; the response body is read whole (tests only). */
export async function registryCall(address: string, method: string, path: string, auth: RegistryCredential | null, o: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const r = await fetch(`http://${address}${path}`, { method, headers: { ...basicAuth(auth), ...o.headers }, body: o.body, redirect: "manual" });
  return { status: r.status, headers: r.headers, text: method === "HEAD" ? "" : await r.text() };
}

export const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Uploads a blob in one POST + PUT, following the registry's Location; returns the final status. */
export async function uploadBlob(address: string, name: string, blob: Buffer, auth: RegistryCredential | null): Promise<number> {
  const start = await registryCall(address, "POST", `/v2/${name}/blobs/uploads/`, auth);
  if (start.status !== 202) return start.status;
  const loc = new URL(start.headers.get("location")!, `http://${address}`);
  loc.searchParams.set("digest", sha256(blob));
  const put = await registryCall(address, "PUT", `${loc.pathname}${loc.search}`, auth, { body: blob, headers: { "content-type": "application/octet-stream" } });
  return put.status;
}

/** A tiny OCI image (one random layer) pushed over the API as `name:tag`; returns its parts. */
export async function pushTinyImage(address: string, name: string, tag: string, auth: RegistryCredential | null): Promise<{ status: number; manifest: string; layer: string; config: string }> {
  const layer = randomBytes(64);
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha256(layer)] } }));
  for (const b of [layer, config]) {
    const s = await uploadBlob(address, name, b, auth);
    if (s !== 201) return { status: s, manifest: "", layer: sha256(layer), config: sha256(config) };
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(config), size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha256(layer), size: layer.length }],
  });
  const put = await registryCall(address, "PUT", `/v2/${name}/manifests/${tag}`, auth, { body: manifest, headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" } });
  return { status: put.status, manifest: sha256(manifest), layer: sha256(layer), config: sha256(config) };
}
