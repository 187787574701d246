import { APIError, type Hypeman } from "@onkernel/hypeman";
import { createHash } from "node:crypto";
import { slugify } from "../../core/deploy/instance-name.ts";

/**
 * The one pattern ingress of a deployment domain: `{instance}.{domain}` to the instance of that
 * name, on one port. Created the first time it is needed, found by name after that (also when
 * another replica made it first). Each app port gets a domain of its own (`p{port}.{domain}`),
 * since one hostname pattern can route to one port only.
 */
export class PatternIngresses {
  private readonly known = new Map<string, Promise<void>>();
  private readonly client: Hypeman;
  private readonly o: { domain: string; defaultPort: number; tls: boolean };

  constructor(client: Hypeman, o: { domain: string; defaultPort: number; tls: boolean }) {
    this.client = client;
    this.o = o;
  }

  /** The host suffix the app's instances answer on. */
  hostDomain(port: number): string {
    return port === this.o.defaultPort ? this.o.domain : `p${port}.${this.o.domain}`;
  }

  url(instance: string, port: number): string {
    return `${this.o.tls ? "https" : "http"}://${instance}.${this.hostDomain(port)}`;
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
    if (await this.exists(name)) return;
    const rule = {
      match: { hostname: `{instance}.${domain}`, port: this.o.tls ? 443 : 80 },
      target: { instance: "{instance}", port },
      ...(this.o.tls ? { tls: true, redirect_http: true } : {}),
    };
    try {
      await this.client.ingresses.create({ name, rules: [rule], tags: { "microship-domain": domain.slice(0, 200) } });
    } catch (err) {
      // Made meanwhile by someone else: that one serves.
      if (err instanceof APIError && err.status === 409 && (await this.exists(name))) return;
      throw err;
    }
  }

  private async exists(name: string): Promise<boolean> {
    try {
      await this.client.ingresses.get(name);
      return true;
    } catch (err) {
      if (err instanceof APIError && err.status === 404) return false;
      throw err;
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
