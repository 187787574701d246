import { parseDeployHost } from "./deploy-host.ts";

/** Where one deployment's traffic goes now: a VM's port on the host's loopback. */
export interface Route {
  name: string;
  /** The backend's name for what serves it (a VM): a stale unregister can't remove a newer route. */
  instance: string;
  port: number;
  /** The VM is stopped for idleness: a request asks the waker to start it again. */
  sleeping?: boolean;
}

/** What a request to a sleeping route is told: the VM is starting, or the last start failed. */
export type WakeStatus = { kind: "waking" } | { kind: "failed"; retryInS: number };

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
  /** The clock of idle accounting (tests give a fake one). */
  now?: () => number;
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
  // One number per route, written by every proxied request: the idle check's only input.
  private readonly lastRequest = new Map<string, number>();
  readonly now: () => number;
  /** Set by the deployer: starts a sleeping route's VM again (at most one start per name at a time). */
  waker: ((name: string) => WakeStatus) | null = null;

  constructor(o: RouteTableOptions) {
    this.domain = o.domain;
    this.scheme = o.scheme ?? "http";
    this.port = o.port ?? null;
    this.fixedPort = o.port !== undefined;
    this.ownHost = o.ownHost?.toLowerCase() ?? null;
    this.now = o.now ?? Date.now;
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
    // A new version counts as a request: a preview deployed and never visited sleeps idleMinutes later.
    this.lastRequest.set(route.name, this.now());
  }

  /** Marks the name's route sleeping, only while it still points at `instance`. */
  sleep(name: string, instance: string): boolean {
    const r = this.routes.get(name);
    if (!r || r.instance !== instance) return false;
    r.sleeping = true;
    return true;
  }

  /** A request for the name arrived now. */
  touch(name: string): void {
    if (this.routes.has(name)) this.lastRequest.set(name, this.now());
  }

  /** When the name last had a request (or its route was set); null without a route. */
  lastRequestAt(name: string): number | null {
    return this.routes.has(name) ? (this.lastRequest.get(name) ?? null) : null;
  }

  /** A request to a sleeping route: asks the waker (none: said as a failed wake). */
  wake(name: string): WakeStatus {
    return this.waker ? this.waker(name) : { kind: "failed", retryInS: 60 };
  }

  /** Removes the name's route, only while it still points at `instance` when one is given. */
  remove(name: string, instance?: string): boolean {
    const r = this.routes.get(name);
    if (!r || (instance !== undefined && r.instance !== instance)) return false;
    this.lastRequest.delete(name);
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
