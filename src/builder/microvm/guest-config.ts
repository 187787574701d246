import type { BuildInput } from "../../core/builder.ts";
import { userError } from "../../core/errors.ts";
import { fromRegistries, isLoopbackRegistry, registryHost } from "../../registry/registry-host.ts";
import { finalBaseImage } from "../buildah/provenance.ts";
import { GUEST_REGISTRY_ADDRESS } from "./guest-network.ts";

/** Where the guest reaches the host's loopback registries (a guestfwd per port, qemu-args.ts). */
export const GUEST_HOST_ADDRESS = GUEST_REGISTRY_ADDRESS;

/**
 * /config/build.json: Hypeman's fields (job_id, dockerfile, registry_url, cache_scope, build_args,
 * secrets, timeout_seconds, network_mode), plus what our agent needs to push by name and to reach
 * the host's loopback registries from inside the VM.
 */
export interface GuestBuildConfig {
  job_id: string;
  dockerfile: string;
  /** The registry of the image as the guest reaches it, e.g. 10.0.2.100:5000. */
  registry_url: string;
  /** The repository path inside registry_url, e.g. owner/repo. */
  image_name: string;
  tags: string[];
  cache_scope: string;
  build_args: Record<string, string>;
  /** Only for builds not from a fork: the builder input's secrets are empty for forks. */
  secrets: { id: string; value: string }[];
  timeout_seconds: number;
  network_mode: "egress";
  no_cache: boolean;
  /** The final stage's base as written, so the agent can report the digest it pulled. */
  base_image: string | null;
  base_image_digest: string | null;
  /** Loopback registries named in FROM lines or the image name, as the guest reaches them. */
  registry_rewrites: { from: string; to: string }[];
  /** Registries spoken to over plain HTTP. */
  insecure_registries: string[];
  /**
   * The build's own push credential for `registry_url` (scoped to its repository and tags), or
   * null. The agent writes it to an auth file, never to argv.
   */
  registry_auth: { username: string; password: string } | null;
}

const SECRET_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function guestBuildConfig(input: BuildInput, o: { insecureRegistries?: readonly string[] } = {}): GuestBuildConfig {
  for (const s of input.secrets) {
    if (!SECRET_ID.test(s.id)) {
      throw userError(`The build secret id "${s.id}" is not valid.`, { title: "Invalid secret id", hint: "Use letters, digits, dot, dash and underscore only." });
    }
  }
  const imageHost = registryHost(input.imageName);
  const loopback = [...new Set([imageHost, ...fromRegistries(input.dockerfile)])].filter(isLoopbackRegistry);
  // A FROM line must not open a path to any other service on the host's loopback.
  const reachable = new Set([imageHost, ...(o.insecureRegistries ?? []).filter(isLoopbackRegistry)]);
  const stranger = loopback.find((h) => !reachable.has(h));
  if (stranger) {
    throw userError(`The Dockerfile pulls from ${stranger}, on the build host's own loopback, which builds can't reach.`, {
      title: "Registry not reachable from the build",
      hint: "Pull base images from a public registry, or from the base-image mirror the operator configured.",
    });
  }
  const rewrites = loopback.map((from) => ({ from, to: toGuest(from) }));
  const registryUrl = isLoopbackRegistry(imageHost) ? toGuest(imageHost) : imageHost;
  return {
    job_id: input.buildId,
    dockerfile: input.dockerfile,
    registry_url: registryUrl,
    image_name: input.imageName.startsWith(`${imageHost}/`) ? input.imageName.slice(imageHost.length + 1) : input.imageName,
    tags: input.tags,
    cache_scope: input.cacheScope,
    build_args: input.buildArgs,
    secrets: input.secrets.map((s) => ({ id: s.id, value: s.value })),
    timeout_seconds: input.timeoutSeconds,
    network_mode: "egress",
    no_cache: input.noCache,
    base_image: finalBaseImage(input.dockerfile),
    base_image_digest: input.baseImageDigest,
    registry_rewrites: rewrites,
    insecure_registries: [...new Set([...rewrites.map((r) => r.to), ...(o.insecureRegistries ?? []).filter((r) => !isLoopbackRegistry(r))])],
    registry_auth: input.registryAuth ? { username: input.registryAuth.username, password: input.registryAuth.password } : null,
  };
}

/** 127.0.0.1:5000 or localhost:5000 on the host is 10.0.2.100:5000 from the guest. */
function toGuest(host: string): string {
  const port = /:(\d+)$/.exec(host)?.[1];
  return port ? `${GUEST_HOST_ADDRESS}:${port}` : GUEST_HOST_ADDRESS;
}
