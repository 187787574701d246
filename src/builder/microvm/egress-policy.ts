import { BlockList, isIP } from "node:net";
import { infraError } from "../../core/errors.ts";

/**
 * Which addresses a builder VM's outbound connections may reach (docs/design.md section 5): the internet, and
 * nothing of the build host or its networks. The egress proxy asks this about the address it is
 * about to connect to, after resolving the name, so a name that resolves to a blocked address
 * (localhost, a rebinding DNS answer) is refused like the address itself.
 *
 * - Never reachable: loopback, link-local (169.254.169.254 is the cloud metadata service),
 *   unspecified, multicast and reserved ranges. An exact `address:port` in the allow list is the one
 *   way to open a host loopback service (a package mirror on the build host), never link-local.
 * - Private ranges (RFC 1918, CGNAT, IPv6 ULA) are refused unless the allow list names them.
 */

export type EgressBlockReason = "loopback" | "link-local" | "private" | "reserved";

export type EgressVerdict = { allowed: true } | { allowed: false; reason: EgressBlockReason };

interface Range {
  net: string;
  prefix: number;
  reason: EgressBlockReason;
}

// IPv4-mapped IPv6 (::ffff:a.b.c.d) is matched against the IPv4 rules by BlockList itself.
const BLOCKED: readonly Range[] = [
  { net: "127.0.0.0", prefix: 8, reason: "loopback" },
  { net: "::1", prefix: 128, reason: "loopback" },
  { net: "169.254.0.0", prefix: 16, reason: "link-local" },
  { net: "fe80::", prefix: 10, reason: "link-local" },
  { net: "0.0.0.0", prefix: 8, reason: "reserved" },
  { net: "::", prefix: 96, reason: "reserved" }, // the unspecified address and IPv4-compatible ::a.b.c.d
  { net: "192.0.0.0", prefix: 24, reason: "reserved" },
  { net: "198.18.0.0", prefix: 15, reason: "reserved" },
  { net: "224.0.0.0", prefix: 4, reason: "reserved" }, // multicast
  { net: "240.0.0.0", prefix: 4, reason: "reserved" }, // reserved and broadcast
  { net: "ff00::", prefix: 8, reason: "reserved" },
  { net: "10.0.0.0", prefix: 8, reason: "private" },
  { net: "172.16.0.0", prefix: 12, reason: "private" },
  { net: "192.168.0.0", prefix: 16, reason: "private" },
  { net: "100.64.0.0", prefix: 10, reason: "private" },
  { net: "fc00::", prefix: 7, reason: "private" },
  { net: "fec0::", prefix: 10, reason: "private" }, // site-local, deprecated but still routed by some stacks
];

const NEVER_ALLOWED: ReadonlySet<EgressBlockReason> = new Set(["link-local", "reserved"]);

// One list per reason, both families in it: BlockList matches an IPv4-mapped IPv6 address against
// the IPv4 rules only when they are in the same list.
function list(reason: EgressBlockReason): BlockList {
  const b = new BlockList();
  for (const r of BLOCKED) if (r.reason === reason) b.addSubnet(r.net, r.prefix, isIP(r.net) === 4 ? "ipv4" : "ipv6");
  return b;
}

const REASONS: readonly EgressBlockReason[] = ["loopback", "link-local", "reserved", "private"];
const LISTS = REASONS.map((reason) => ({ reason, list: list(reason) }));

/** NAT64's well-known prefix carries an IPv4 address in its last 32 bits, which is what is reached. */
function embeddedIpv4(address: string): string | null {
  const nat64 = new BlockList();
  nat64.addSubnet("64:ff9b::", 96, "ipv6");
  if (!nat64.check(address, "ipv6")) return null;
  const tail = address.slice(address.lastIndexOf(":") + 1);
  if (isIP(tail) === 4) return tail;
  const groups = address.split(":").slice(-2).map((g) => parseInt(g || "0", 16));
  return [groups[0]! >> 8, groups[0]! & 255, groups[1]! >> 8, groups[1]! & 255].join(".");
}

export function blockReason(address: string): EgressBlockReason | null {
  const family = isIP(address);
  if (family === 0) return "reserved";
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4) return blockReason(v4);
  }
  for (const l of LISTS) if (l.list.check(address, family === 4 ? "ipv4" : "ipv6")) return l.reason;
  return null;
}

export interface EgressAllow {
  /** Private ranges let through, e.g. a package mirror on the team's network. */
  subnets: BlockList;
  /** Exact endpoints, `address:port`: the one way to reach a service on the build host's loopback. */
  endpoints: ReadonlySet<string>;
  /** The entries as given, for the operator's log. */
  text: string;
}

export class EgressPolicy {
  readonly allow: EgressAllow;

  constructor(allow: EgressAllow = parseEgressAllow("")) {
    this.allow = allow;
  }

  verdict(address: string, port: number): EgressVerdict {
    const reason = blockReason(address);
    if (reason === null) return { allowed: true };
    if (NEVER_ALLOWED.has(reason)) return { allowed: false, reason };
    if (this.allow.endpoints.has(endpointKey(address, port))) return { allowed: true };
    const family = isIP(address) === 4 ? "ipv4" : "ipv6";
    if (reason === "private" && this.allow.subnets.check(address, family)) return { allowed: true };
    return { allowed: false, reason };
  }
}

function endpointKey(address: string, port: number): string {
  const v4 = address.toLowerCase().startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return `${isIP(v4) === 6 ? `[${v4.toLowerCase()}]` : v4}:${port}`;
}

/**
 * MICROSHIP_EGRESS_ALLOW: a comma-separated list of private CIDRs (`10.20.0.0/16`, `fd00:1::/48`)
 * and exact endpoints (`192.168.1.5:3142`, `127.0.0.1:3142`, `[fd00::5]:443`). Names are not
 * accepted: what a name resolves to can change between the check and the connection.
 */
export function parseEgressAllow(text: string): EgressAllow {
  const subnets = new BlockList();
  const endpoints = new Set<string>();
  const entries = text.split(",").map((s) => s.trim()).filter(Boolean);
  if (entries.length > 256) throw badAllow(`${entries.length} entries; at most 256 are accepted`);
  for (const entry of entries) {
    const slash = entry.indexOf("/");
    if (slash !== -1) {
      const net = entry.slice(0, slash);
      const prefixText = entry.slice(slash + 1);
      const family = isIP(net);
      const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (family === 0 || !(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) throw badAllow(`"${entry}" is not an address range (e.g. 10.20.0.0/16)`);
      if (prefix < (family === 4 ? 8 : 16)) throw badAllow(`"${entry}" is wider than a /${family === 4 ? 8 : 16}; name the mirrors' own range`);
      subnets.addSubnet(net, prefix, family === 4 ? "ipv4" : "ipv6");
      continue;
    }
    const m = /^(?:\[([0-9a-fA-F:.]{2,45})\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(entry);
    const address = m?.[1] ?? m?.[2];
    const port = Number(m?.[3]);
    if (!address || isIP(address) === 0 || !(port >= 1 && port <= 65535)) {
      throw badAllow(`"${entry}" is neither a range (10.20.0.0/16) nor an address:port (192.168.1.5:3142); names are not accepted`);
    }
    const reason = blockReason(address);
    if (reason && NEVER_ALLOWED.has(reason)) throw badAllow(`"${entry}" is ${reason}, which builds can never reach`);
    endpoints.add(endpointKey(address, port));
  }
  return { subnets, endpoints, text: entries.join(",") };
}

function badAllow(why: string) {
  return infraError(`MICROSHIP_EGRESS_ALLOW: ${why}.`, {
    title: "Invalid egress allow list",
    hint: "List private ranges as CIDRs and single services as address:port, separated by commas.",
  });
}
