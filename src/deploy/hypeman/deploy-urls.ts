/**
 * The scheme and port a Hypeman deployment's URL is given with, decided by what serves that URL.
 * The port is shown only when it isn't the scheme's default.
 */
export class DeployUrls {
  private readonly scheme: "http" | "https";
  private port: number | null;
  private readonly fixedPort: boolean;

  /** `port` undefined: the one microship listens on, told by listening(). */
  constructor(scheme: "http" | "https", port?: number | null) {
    this.scheme = scheme;
    this.port = port ?? null;
    this.fixedPort = port !== undefined;
  }

  listening(port: number): void {
    if (!this.fixedPort) this.port = port;
  }

  url(host: string): string {
    const defaultPort = this.scheme === "https" ? 443 : 80;
    return `${this.scheme}://${host}${this.port && this.port !== defaultPort ? `:${this.port}` : ""}`;
  }
}

/**
 * Without the wake layer, Hypeman's ingress serves the deploy domain on its default ports: https
 * when it terminates TLS (MICROSHIP_HYPEMAN_INGRESS_TLS). With it (MICROSHIP_HYPEMAN_INGRESS_URL) the
 * DNS points at microship, so the URLs are microship's, as the microvm deployer's (deploy-routes.ts):
 * MICROSHIP_PUBLIC_URL's scheme and port, else http on the port microship listens on.
 */
export function hypemanDeployUrls(o: { ingressTls: boolean; wakeLayer: boolean; publicUrl?: string }): DeployUrls {
  if (!o.wakeLayer) return new DeployUrls(o.ingressTls ? "https" : "http", null);
  if (!o.publicUrl) return new DeployUrls("http");
  const pub = new URL(o.publicUrl);
  return new DeployUrls(pub.protocol === "https:" ? "https" : "http", pub.port ? Number(pub.port) : null);
}
