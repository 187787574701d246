import { parseDeployHost } from "./deploy-host.ts";

/** Where one deployment's traffic goes now: a VM's port on the host's loopback. */
export interface Route {
  name: string;
  /** The backend's name for what serves it (a VM): a stale unregister can't remove a newer route. */
  instance: string;
  port: number;
}

export type RouteLookup = { kind: "route"; route: Route } | { kind: "unknown"; name: string | null } | { kind: "other" };

export interface RouteTableOptions {
  /** Deployments answer at `{name}.{domain}` (MICROSHIP_DEPLOY_DOMAIN, default `localhost`). */
  domain: string;
  /** The scheme and port of the URLs given out. Without a port, it is the one microship listens on. */
  scheme?: "http" | "https";
  /** null: the scheme's default port (a public URL without one). */
  port?: number | null;
  /** microship's own host name (from its public URL): never a deployment, even under the domain. */
  ownHost?: string | null;
}

/**
 * microship's deploy routes: deployment name -> the loopback port of the VM serving it. The deployer
 * registers and unregisters; the HTTP server asks it about every request's Host header.
 */
export class RouteTable {
  readonly domain: string;
  private readonly routes = new Map<string, Route>();
  private scheme: "http" | "https";
  private port: number | null;
  private readonly fixedPort: boolean;
  private readonly ownHost: string | null;

  constructor(o: RouteTableOptions) {
    this.domain = o.domain;
    this.scheme = o.scheme ?? "http";
    this.port = o.port ?? null;
    this.fixedPort = o.port !== undefined;
    this.ownHost = o.ownHost?.toLowerCase() ?? null;
  }

  /** The port microship's HTTP server listens on, for URLs when no public URL says otherwise. */
  listening(port: number): void {
    if (!this.fixedPort) this.port = port;
  }

  url(name: string): string {
    const defaultPort = this.scheme === "https" ? 443 : 80;
    const port = this.port && this.port !== defaultPort ? `:${this.port}` : "";
    return `${this.scheme}://${name}.${this.domain}${port}`;
  }

  /** Points the name at a new instance at once: requests that arrive after this go there. */
  set(route: Route): void {
    this.routes.set(route.name, { ...route });
  }

  /** Removes the name's route, only while it still points at `instance` when one is given. */
  remove(name: string, instance?: string): boolean {
    const r = this.routes.get(name);
    if (!r || (instance !== undefined && r.instance !== instance)) return false;
    return this.routes.delete(name);
  }

  get(name: string): Route | null {
    const r = this.routes.get(name);
    return r ? { ...r } : null;
  }

  names(): string[] {
    return [...this.routes.keys()];
  }

  lookup(host: string | undefined): RouteLookup {
    const parsed = parseDeployHost(host, this.domain);
    if (parsed.kind === "other") return { kind: "other" };
    if (parsed.kind === "invalid") return { kind: "unknown", name: null };
    if (this.ownHost === `${parsed.name}.${this.domain}`) return { kind: "other" };
    const route = this.routes.get(parsed.name);
    return route ? { kind: "route", route: { ...route } } : { kind: "unknown", name: parsed.name };
  }
}
