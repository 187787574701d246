import { SmeeClient } from "smee-client";
import type { OpLog } from "../core/ports.ts";
import { registerSecret } from "../core/redact.ts";

export interface WebhookProxy {
  stop(): Promise<void>;
}

/**
 * WEBHOOK_PROXY_URL: Probot's setup flow (outside production) makes a smee.io channel, registers
 * the app with it as the webhook URL and writes it to .env. Nothing reaches a laptop's port
 * otherwise, so the channel's deliveries are forwarded to our own webhook route, as signed.
 * Unset (or on a worker, which serves no webhooks): null. Connecting is not awaited: a channel
 * that is down must not stop the start (it reconnects).
 */
export function startWebhookProxy(o: { url: string | undefined; host: string; port: number; path: string; log: OpLog }): WebhookProxy | null {
  if (!o.url) return null;
  const log = o.log.child({ name: "webhook-proxy" });
  const target = `http://${loopbackOf(o.host)}:${o.port}${o.path}`;
  // Whoever knows the channel's URL reads every payload: the logs never show it.
  registerSecret(o.url);
  const client = new SmeeClient({ source: o.url, target, logger: { info: (m: unknown) => log.debug(String(m)), error: (...m: unknown[]) => log.warn(m.map(String).join(" ").slice(0, 500)) } });
  log.info({ target }, "webhooks from WEBHOOK_PROXY_URL are forwarded to this server");
  // start() sets up the connection at once and resolves when it opens; stop() closes it either way.
  client.start().catch((err) => log.warn({ err }, "could not connect to WEBHOOK_PROXY_URL; retrying"));
  return { stop: () => client.stop() };
}

/** Where this server is reached from itself: a wildcard bind answers on loopback. */
function loopbackOf(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
