import { registryHost } from "../../registry/registry-host.ts";

export interface ImageName {
  registry: string;
  repository: string;
}

/**
 * Where the server put the image. Hypeman answers `image_ref` as the name it pushed under in its
 * own registry, without the registry's host (`octo/app`, or `builds/{id}`): that registry is the
 * one microship is configured with.
 */
export function servedImage(ref: string | null, asked: ImageName): ImageName {
  if (!ref) return asked;
  const name = ref.replace(/@sha256:[0-9a-f]+$/, "").replace(/:[\w][\w.-]*$/, "");
  const host = registryHost(name);
  if (host === "docker.io" && !name.startsWith("docker.io/")) return { registry: asked.registry, repository: name };
  return splitImageName(name);
}

export function splitImageName(name: string): ImageName {
  const registry = registryHost(name);
  return { registry, repository: name.startsWith(`${registry}/`) ? name.slice(registry.length + 1) : name };
}
