import { isValidName } from "../../core/deploy/instance-name.ts";

/** RFC 1035's limit on a whole name; a Host header longer than this is no deployment's. */
export const MAX_HOST = 253;

/**
 * What a Host header says about the deploy proxy:
 * - `deployment`: `{name}.{domain}`, name one valid DNS label (the route table decides if it runs);
 * - `invalid`: under the domain but no valid name (too long, two labels, odd or non-ASCII characters);
 * - `other`: not under the domain: microship's own pages.
 */
export type DeployHost = { kind: "deployment"; name: string } | { kind: "invalid" } | { kind: "other" };

/**
 * Parses an untrusted Host header with plain string steps (no regex to backtrack on): the port is
 * dropped, one trailing dot too, ASCII letters are lowercased. IDN hosts come as punycode (`xn--`),
 * which is a valid label; raw non-ASCII is never a deployment.
 */
export function parseDeployHost(header: string | undefined, domain: string): DeployHost {
  if (!header) return { kind: "other" };
  const suffix = `.${domain}`;
  // Judged before any other work: a long header can only be refused, or left to microship's pages.
  if (header.length > MAX_HOST + 6) return namesDomain(header.slice(-(MAX_HOST + 16)), suffix) ? { kind: "invalid" } : { kind: "other" };
  const host = stripPort(header);
  const lower = asciiLower(host.endsWith(".") ? host.slice(0, -1) : host);
  if (!lower.endsWith(suffix)) return namesDomain(header, suffix) ? { kind: "invalid" } : { kind: "other" };
  const name = lower.slice(0, -suffix.length);
  return isValidName(name) ? { kind: "deployment", name } : { kind: "invalid" };
}

/** Ends in the domain, perhaps with a dot or a port that didn't parse: meant for a deployment. */
function namesDomain(header: string, suffix: string): boolean {
  const lower = asciiLower(header);
  const colon = lower.lastIndexOf(":");
  const host = colon === -1 ? lower : lower.slice(0, colon);
  return host.endsWith(suffix) || host.endsWith(`${suffix}.`);
}

/** `host:port` -> host; anything else (an IPv6 literal, a bad port) is left whole, and so matches no deployment. */
function stripPort(header: string): string {
  if (header.startsWith("[")) return header;
  const colon = header.lastIndexOf(":");
  if (colon === -1) return header;
  const port = header.slice(colon + 1);
  if (port.length === 0 || port.length > 5) return header;
  for (const c of port) if (c < "0" || c > "9") return header;
  return header.slice(0, colon);
}

function asciiLower(s: string): string {
  let out = "";
  for (const c of s) out += c >= "A" && c <= "Z" ? String.fromCharCode(c.charCodeAt(0) + 32) : c;
  return out;
}
