/**
 * Which registry a reference points at, following the docker reference rules: the first path
 * component is a registry when it has a dot or a port, or is `localhost`; otherwise it is Docker
 * Hub. Used to decide which registries may be spoken to without TLS.
 */
export function registryHost(ref: string): string {
  const name = ref.replace(/^docker:\/\//, "");
  const slash = name.indexOf("/");
  if (slash === -1) return "docker.io";
  const first = name.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : "docker.io";
}

/** Loopback registries (the embedded one, a test mirror) never have TLS, and need none. */
export function isLoopbackRegistry(host: string): boolean {
  const h = host.replace(/:\d+$/, "");
  return h === "localhost" || h === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** `--tls-verify=false` only for loopback registries and the ones the operator listed as insecure. */
export function needsPlainHttp(ref: string, insecure: readonly string[]): boolean {
  const host = registryHost(ref);
  return isLoopbackRegistry(host) || insecure.includes(host);
}

/** The registries named by FROM lines (and `--from=` stages that are images), for a per-build config. */
export function fromRegistries(dockerfile: string): string[] {
  const hosts = new Set<string>();
  for (const m of dockerfile.matchAll(/^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)/gim)) {
    if (!m[1]!.includes("$")) hosts.add(registryHost(m[1]!));
  }
  for (const m of dockerfile.matchAll(/--from=(\S+)/g)) {
    if (m[1]!.includes("/")) hosts.add(registryHost(m[1]!));
  }
  return [...hosts];
}
