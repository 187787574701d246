import { Agent } from "node:http";
import { Agent as TlsAgent } from "node:https";

export interface UpstreamAgents {
  /** The proxy options for a target: its origin and the agent for its scheme. */
  via(target: string): { target: string; agent: Agent };
  destroy(): void;
}

/**
 * The deploy proxy's keep-alive pools: a new connection per request through QEMU's user network
 * costs most of the time, and a TLS handshake per request to Hypeman's ingress more. An https
 * target's certificate is checked (http-proxy-3's `secure` is on unless turned off) against `ca`
 * if given, else Node's store. No servername is given: Node's agent takes it from the Host header,
 * which the proxy keeps, so SNI and the name check are the deployment's own (`*.{domain}`), never
 * the ingress's address; and it pools per that name, so no connection checked for one name is
 * reused for another.
 */
export function upstreamAgents(ca: string | null | undefined): UpstreamAgents {
  const sizes = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64 };
  const plain = new Agent(sizes);
  const tls = new TlsAgent({ ...sizes, ...(ca ? { ca } : {}) });
  return {
    via: (target) => ({ target, agent: target.startsWith("https:") ? tls : plain }),
    destroy() {
      plain.destroy();
      tls.destroy();
    },
  };
}
