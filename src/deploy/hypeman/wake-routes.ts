import { APIError, type Hypeman } from "@onkernel/hypeman";
import type { LiveDeployment } from "../../core/deployer.ts";
import type { OpLog } from "../../core/ports.ts";
import type { Resolved, RouteSource } from "../proxy/route-source.ts";
import type { WakeStatus } from "../proxy/route-table.ts";
import { hostKey, InstanceHosts, type KnownInstance } from "./instance-hosts.ts";

export interface WakeRoutesOptions {
  client: Hypeman;
  /** The deployer's list of every repository (HypemanDeployer.list(null)). */
  list: (signal: AbortSignal) => Promise<LiveDeployment[]>;
  /** MICROSHIP_DEPLOY_DOMAIN. */
  domain: string;
  /** MICROSHIP_HYPEMAN_INGRESS_URL: where a running instance's requests go, Host kept. */
  ingressUrl: string;
  /** MICROSHIP_HYPEMAN_INGRESS_CA's PEM, for an https ingress with a private CA. */
  ingressCa?: string | null;
  /** microship's own host name (from its public URL): never a deployment, even under the domain. */
  ownHost?: string | null;
  log?: OpLog;
  /** Told the port microship listens on: the deployments' URLs are microship's (deploy-urls.ts). */
  onListening?: (port: number) => void;
  /** How old the list of instances may be (5 s). */
  listTtlMs?: number;
  /** After a failed wake, how long requests get the error page before the next try (30 s). */
  wakeBackoffMs?: number;
  now?: () => number;
}

/** What microship keeps per instance: bounded by the list, dropped with it. */
interface InstanceState {
  /** Until then the last hold stands: requests go straight through. */
  renewAt: number;
  holding: Promise<"running" | "asleep"> | null;
  waking: Promise<void> | null;
  failedAt: number | null;
}

/** An instance without an auto-standby hold (no policy: an environment) is asked again after this. */
const NO_HOLD_RECHECK_MS = 30_000;

/**
 * The wake-on-traffic layer Hypeman leaves out: with the preview domain's DNS pointed at microship,
 * `{instance}.{domain}` of one of microship's instances goes to Hypeman's ingress (Host kept) while
 * it runs. Before that, an auto-standby hold (`autoStandby.hold`) keeps Hypeman's controller from
 * putting it in standby under the request; it is renewed only once half of the last hold has
 * passed, not per request. A 409 from the hold (or a list that says standby) means asleep: one
 * `instances.restore` per instance however many requests ask, the waking page meanwhile, and the
 * wake-failed page with a backoff when it fails. Any other host under the domain is a 404 and no
 * Hypeman call.
 */
export class HypemanWakeRoutes implements RouteSource {
  readonly domain: string;
  readonly upstreamCa: string | null;
  private readonly o: WakeRoutesOptions;
  private readonly hosts: InstanceHosts;
  private readonly states = new Map<string, InstanceState>();
  private readonly now: () => number;

  constructor(o: WakeRoutesOptions) {
    this.o = o;
    this.domain = o.domain;
    this.upstreamCa = o.ingressCa ?? null;
    this.now = o.now ?? Date.now;
    this.hosts = new InstanceHosts({ list: o.list, ttlMs: o.listTtlMs ?? 5_000, now: this.now, max: 10_000, timeoutMs: 15_000, log: o.log });
    this.hosts.onListed = (listed) => {
      const names = new Map(listed.map((k) => [k.instance, k]));
      for (const [name, s] of this.states) {
        const k = names.get(name);
        if (!k) this.states.delete(name);
        // Put in standby meanwhile (from the dashboard, or by Hypeman once a hold ended): the next request asks.
        else if (k.sleeping) s.renewAt = 0;
      }
    };
  }

  listening(port: number): void {
    this.o.onListening?.(port);
  }

  resolve(header: string | undefined): Resolved | Promise<Exclude<Resolved, { kind: "other" }>> {
    const key = hostKey(header, this.domain);
    if (key.kind === "other") return key;
    if (key.kind === "invalid") return { kind: "unknown", name: null };
    if (key.host === this.o.ownHost?.toLowerCase()) return { kind: "other" };
    return this.route(key.host, key.label);
  }

  private async route(host: string, label: string): Promise<Exclude<Resolved, { kind: "other" }>> {
    const known = await this.hosts.find(host);
    if (!known) return { kind: "unknown", name: label };
    const s = this.stateOf(known.instance);
    if (s.waking || s.failedAt !== null || (this.now() >= s.renewAt && (await this.held(known, s)) === "asleep")) {
      return { kind: "asleep", name: label, wake: this.wake(known, s) };
    }
    return { kind: "forward", name: label, target: this.o.ingressUrl };
  }

  private stateOf(instance: string): InstanceState {
    let s = this.states.get(instance);
    if (!s) this.states.set(instance, (s = { renewAt: 0, holding: null, waking: null, failedAt: null }));
    return s;
  }

  /** One hold at a time per instance, shared by the requests that need it. */
  private held(known: KnownInstance, s: InstanceState): Promise<"running" | "asleep"> {
    s.holding ??= this.hold(known, s).finally(() => (s.holding = null));
    return s.holding;
  }

  private async hold(known: KnownInstance, s: InstanceState): Promise<"running" | "asleep"> {
    const asked = this.now();
    try {
      const status = await this.o.client.instances.autoStandby.hold(known.instance, { timeout: 10_000, maxRetries: 0 });
      const until = status.hold_until ? Date.parse(status.hold_until) : NaN;
      // Without a policy there is no hold, and only the list knows it is in standby.
      if (status.reason === "instance_not_running" || (!Number.isFinite(until) && known.sleeping)) return "asleep";
      s.renewAt = Number.isFinite(until) ? asked + Math.max(0, until - asked) / 2 : asked + NO_HOLD_RECHECK_MS;
      return "running";
    } catch (err) {
      if (err instanceof APIError && err.status === 409) return "asleep";
      // A hold is a guard against a race, not a gate: the ingress answers; asked again later, not per request.
      this.o.log?.warn({ instance: known.instance, err: String(err).slice(0, 300) }, "placing an auto-standby hold failed");
      s.renewAt = asked + NO_HOLD_RECHECK_MS;
      return known.sleeping ? "asleep" : "running";
    }
  }

  /** Starts the restore unless one runs or the last failed less than the backoff ago. */
  private wake(known: KnownInstance, s: InstanceState): WakeStatus {
    const backoff = this.o.wakeBackoffMs ?? 30_000;
    if (s.failedAt !== null) {
      const left = s.failedAt + backoff - this.now();
      if (left > 0) return { kind: "failed", retryInS: Math.ceil(left / 1000) };
      s.failedAt = null;
    }
    s.waking ??= this.restore(known.instance).then(() => {
      known.sleeping = false;
      s.renewAt = 0;
      this.o.log?.info({ instance: known.instance }, "a request woke a Hypeman instance");
    }, (err: unknown) => {
      s.failedAt = this.now();
      this.o.log?.warn({ instance: known.instance, err: String(err).slice(0, 300) }, "waking a Hypeman instance failed");
    }).finally(() => (s.waking = null));
    return { kind: "waking" };
  }

  /** Restore; a 409 is fine when the instance runs already (woken by someone else). */
  private async restore(instance: string): Promise<void> {
    try {
      await this.o.client.instances.restore(instance, { timeout: 120_000, maxRetries: 0 });
    } catch (err) {
      if (!(err instanceof APIError && err.status === 409)) throw err;
      const now = await this.o.client.instances.get(instance, { timeout: 10_000 });
      if (now.state !== "Running" && now.state !== "Initializing") throw err;
    }
  }
}
