import { Hypeman } from "@onkernel/hypeman";
import type { OpLog } from "../../core/ports.ts";
import { HypemanDeployer, type HypemanDeployerOptions } from "./hypeman-deployer.ts";
import { HypemanWakeRoutes, type WakeRoutesOptions } from "./wake-routes.ts";
import { hypemanDeployUrls } from "./deploy-urls.ts";

export interface HypemanPartsOptions {
  baseURL: string;
  apiKey?: string;
  domain: string;
  /** MICROSHIP_HYPEMAN_INGRESS_URL; unset: no wake layer, and previews never sleep by themselves. */
  ingressUrl?: string;
  /** MICROSHIP_HYPEMAN_INGRESS_CA's PEM: the CA an https ingress's certificate is checked against. */
  ingressCa?: string;
  /** MICROSHIP_HYPEMAN_INGRESS_TLS: without the wake layer, Hypeman's ingress terminates TLS. */
  ingressTls?: boolean;
  /** MICROSHIP_PUBLIC_URL: its host stays microship's own even under the domain; with the wake layer, its scheme and port are the URLs'. */
  publicUrl?: string;
  log?: OpLog;
  /** Timings and the clock (tests). */
  tuning?: { deployer?: Partial<HypemanDeployerOptions>; wake?: Pick<WakeRoutesOptions, "now" | "listTtlMs" | "wakeBackoffMs"> };
}

/**
 * The Hypeman deployer, and with an ingress URL the wake layer in front of Hypeman's ingress
 * (wake-routes.ts): only then do previews get auto-standby, since only then does a request wake them.
 */
export function hypemanParts(o: HypemanPartsOptions): { deployer: HypemanDeployer; wakeRoutes: HypemanWakeRoutes | null } {
  // With the wake layer the ingress stays as it was (plain http, microship forwards to it); loadEnv refuses TLS with it.
  const tls = !o.ingressUrl && o.ingressTls === true;
  const urls = hypemanDeployUrls({ ingressTls: tls, wakeLayer: Boolean(o.ingressUrl), publicUrl: o.publicUrl });
  const deployer = new HypemanDeployer({ baseURL: o.baseURL, apiKey: o.apiKey, domain: o.domain, log: o.log, autoStandby: Boolean(o.ingressUrl), tls, urls, ...o.tuning?.deployer });
  if (!o.ingressUrl) return { deployer, wakeRoutes: null };
  const client = new Hypeman({ baseURL: o.baseURL, apiKey: o.apiKey ?? "", maxRetries: 0, timeout: 60_000, logLevel: "off" });
  const wakeRoutes = new HypemanWakeRoutes({
    client, domain: o.domain, ingressUrl: new URL(o.ingressUrl).origin, ingressCa: o.ingressCa, log: o.log, ownHost: o.publicUrl ? new URL(o.publicUrl).hostname : null,
    list: (signal) => deployer.list(null, signal), onListening: (port) => urls.listening(port), ...o.tuning?.wake,
  });
  return { deployer, wakeRoutes };
}
