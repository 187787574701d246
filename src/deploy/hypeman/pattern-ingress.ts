import { APIError, type Hypeman } from "@onkernel/hypeman";
import type { Ingress } from "@onkernel/hypeman/resources/ingresses";
import { createHash } from "node:crypto";
import { slugify } from "../../core/deploy/instance-name.ts";
import type { DeployUrls } from "./deploy-urls.ts";

export interface PatternIngressOptions {
  domain: string;
  defaultPort: number;
  /** Hypeman's ingress terminates TLS (port 443, http redirected); otherwise port 80. */
  tls: boolean;
  /** The scheme and port of the URLs given out: who serves them decides (deploy-urls.ts). */
  urls: DeployUrls;
}

/**
 * The one pattern ingress of a deployment domain: `{instance}.{domain}` to the instance of that
 * name, on one port. Created the first time it is needed, found by name after that (also when
 * another replica made it first). Each app port gets a domain of its own (`p{port}.{domain}`),
 * since one hostname pattern can route to one port only. One found whose TLS isn't the one asked
 * for (the setting changed) is deleted and made again: Hypeman updates no ingress, and its
 * hostnames are unique per port, so a second one beside it would leave the old rule serving.
 */
export class PatternIngresses {
  private readonly known = new Map<string, Promise<void>>();
  private readonly client: Hypeman;
  private readonly o: PatternIngressOptions;

  constructor(client: Hypeman, o: PatternIngressOptions) {
    this.client = client;
    this.o = o;
  }

  /** The host suffix the app's instances answer on. */
  hostDomain(port: number): string {
    return port === this.o.defaultPort ? this.o.domain : `p${port}.${this.o.domain}`;
  }

  url(instance: string, port: number): string {
    return this.o.urls.url(`${instance}.${this.hostDomain(port)}`);
  }

  ensure(port: number): Promise<void> {
    const domain = this.hostDomain(port);
    let pending = this.known.get(domain);
    if (!pending) {
      pending = this.findOrCreate(domain, port);
      // A failure is tried again on the next deploy.
      pending.catch(() => this.known.delete(domain));
      this.known.set(domain, pending);
    }
    return pending;
  }

  private async findOrCreate(domain: string, port: number): Promise<void> {
    const name = ingressName(domain);
    const found = await this.find(name);
    if (found && this.servesAsAsked(found)) return;
    // By id: a replica that remade it first keeps its new one.
    if (found) await this.remove(found.id);
    const rule = {
      match: { hostname: `{instance}.${domain}`, port: this.o.tls ? 443 : 80 },
      target: { instance: "{instance}", port },
      ...(this.o.tls ? { tls: true, redirect_http: true } : {}),
    };
    try {
      await this.client.ingresses.create({ name, rules: [rule], tags: { "microship-domain": domain.slice(0, 200) } });
    } catch (err) {
      // Made meanwhile by someone else: that one serves, if it is as asked.
      if (err instanceof APIError && err.status === 409) {
        const made = await this.find(name);
        if (made && this.servesAsAsked(made)) return;
      }
      throw err;
    }
  }

  private servesAsAsked(ingress: Ingress): boolean {
    return ingress.rules.every((r) => (r.tls === true) === this.o.tls);
  }

  private async find(name: string): Promise<Ingress | null> {
    try {
      return await this.client.ingresses.get(name);
    } catch (err) {
      if (err instanceof APIError && err.status === 404) return null;
      throw err;
    }
  }

  /** One already gone (another replica removed it first) is fine. */
  private async remove(id: string): Promise<void> {
    try {
      await this.client.ingresses.delete(id);
    } catch (err) {
      if (!(err instanceof APIError && err.status === 404)) throw err;
    }
  }
}

/** `microship-{domain}`, cut to Hypeman's 63 characters with a hash when longer. */
export function ingressName(domain: string): string {
  const full = slugify(`microship-${domain}`);
  if (full.length <= 63) return full;
  const hash = createHash("sha256").update(domain).digest("hex").slice(0, 8);
  const cut = full.slice(0, 63 - hash.length - 1);
  return `${cut.endsWith("-") ? cut.slice(0, -1) : cut}-${hash}`;
}
