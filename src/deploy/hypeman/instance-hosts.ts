import type { LiveDeployment } from "../../core/deployer.ts";
import type { OpLog } from "../../core/ports.ts";
import { MAX_HOST, parseDeployHost } from "../proxy/deploy-host.ts";

/** A Host header as the wake layer reads it: one of its hosts (`host` normalised; `label` is what pages show before the domain). */
export type HostKey = { kind: "other" } | { kind: "invalid" } | { kind: "host"; host: string; label: string };

/**
 * `{instance}.{domain}`, or `{instance}.p{port}.{domain}` (an app on another port: pattern-ingress.ts),
 * from an untrusted Host with deploy-host.ts's plain string steps; anything else under the domain is invalid.
 */
export function hostKey(header: string | undefined, domain: string): HostKey {
  const base = parseDeployHost(header, domain);
  if (base.kind === "other") return base;
  if (base.kind === "deployment") return { kind: "host", host: `${base.name}.${domain}`, label: base.name };
  if (!header || header.length > MAX_HOST + 6) return { kind: "invalid" };
  const dot = header.indexOf(".");
  const next = dot < 0 ? -1 : header.indexOf(".", dot + 1);
  const digits = next < 0 ? "" : header.slice(dot + 2, next);
  if ((header[dot + 1] !== "p" && header[dot + 1] !== "P") || digits.length === 0 || digits.length > 5 || digits[0] === "0") return { kind: "invalid" };
  for (const c of digits) if (c < "0" || c > "9") return { kind: "invalid" };
  if (Number(digits) > 65_535) return { kind: "invalid" };
  const portDomain = `p${digits}.${domain}`;
  const parsed = parseDeployHost(header, portDomain);
  return parsed.kind === "deployment" ? { kind: "host", host: `${parsed.name}.${portDomain}`, label: `${parsed.name}.p${digits}` } : { kind: "invalid" };
}

/** One of microship's instances, as the last list saw it. */
export interface KnownInstance {
  instance: string;
  /** In standby (or paused) when listed; set false by a wake that worked. */
  sleeping: boolean;
}

/** How old a list may be to call a host unknown: a flood of made-up names costs a list a second at most. */
const UNKNOWN_TTL_MS = 1_000;

export interface InstanceHostsOptions {
  /** The deployer's list of every repository: only instances it reports (tagged as microship's, no release's) are served. */
  list: (signal: AbortSignal) => Promise<LiveDeployment[]>;
  ttlMs: number;
  now: () => number;
  /** At most this many hosts are kept from one list. */
  max: number;
  timeoutMs: number;
  log?: OpLog;
}

/**
 * microship's own Hypeman instances by the host each answers on. Listed again at most once per
 * `ttlMs`, and only when a request comes: a known host is answered from the last list while the
 * next one runs; an unknown one waits for it. A flood of made-up names costs one list per ttl at
 * most, and one that fails is not tried again before the ttl either.
 */
export class InstanceHosts {
  private byHost = new Map<string, KnownInstance>();
  private listedAt = -Infinity;
  private pending: Promise<void> | null = null;
  private readonly o: InstanceHostsOptions;
  /** Called with every new list (the wake layer forgets what it kept for instances that went). */
  onListed: ((listed: KnownInstance[]) => void) | null = null;

  constructor(o: InstanceHostsOptions) {
    this.o = o;
  }

  async find(host: string): Promise<KnownInstance | null> {
    const known = this.byHost.get(host) ?? null;
    // A host not in the list may be a deployment newer than it: listed again sooner, still bounded.
    if (this.o.now() - this.listedAt < (known ? this.o.ttlMs : UNKNOWN_TTL_MS)) return known;
    try {
      await this.refresh();
    } catch (err) {
      // Hypeman's list failed: a known host keeps its last state; an unknown one can't be told.
      if (!known) throw err;
      return known;
    }
    return this.byHost.get(host) ?? null;
  }

  private refresh(): Promise<void> {
    if (this.pending) return this.pending;
    this.listedAt = this.o.now();
    this.pending = this.o.list(AbortSignal.timeout(this.o.timeoutMs)).then((live) => {
      const next = new Map<string, KnownInstance>();
      for (const d of live) {
        if (next.size >= this.o.max) break;
        const host = hostOf(d.url);
        if (host) next.set(host, { instance: d.instance, sleeping: d.state === "sleeping" });
      }
      this.byHost = next;
      this.onListed?.([...next.values()]);
    }).catch((err: unknown) => {
      this.o.log?.warn({ err: String(err).slice(0, 300) }, "listing Hypeman instances for the wake layer failed");
      throw err;
    }).finally(() => (this.pending = null));
    return this.pending;
  }
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}
