import type { OpLog } from "../../core/ports.ts";

const EVERY_MS = 60_000;

/** Codes of a certificate Node's TLS refused (an unknown CA, a wrong name, expired...). */
function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  return code.startsWith("ERR_TLS_") || code.includes("CERT") || code.includes("SELF_SIGNED") || code.startsWith("UNABLE_TO_");
}

/**
 * A refused upstream certificate is the operator's to fix (MICROSHIP_HYPEMAN_INGRESS_CA, the
 * ingress's certificate), and users only see the 502 page: said in the log, at most once a minute
 * however many requests fail.
 */
export function upstreamTlsWarner(log: OpLog | undefined, now: () => number = Date.now): (err: unknown) => void {
  let last = -Infinity;
  return (err) => {
    if (!log || !isCertificateError(err) || now() - last < EVERY_MS) return;
    last = now();
    log.warn({ code: (err as { code: string }).code, err: String(err).slice(0, 300) }, "the deploy proxy refused an upstream's TLS certificate (see MICROSHIP_HYPEMAN_INGRESS_CA)");
  };
}
