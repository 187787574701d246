import type { GuestBuildConfig } from "./guest-config.ts";
import type { HostForward } from "./qemu-args.ts";

/**
 * The guestfwd rules for a build's loopback registries: guest-config.ts has already refused any
 * that isn't the image's own registry or the configured mirror, so each rewrite here is one the
 * build may reach. `localhost` is the host's 127.0.0.1, where microship's registries listen.
 */
export function hostForwards(rewrites: GuestBuildConfig["registry_rewrites"]): HostForward[] {
  const out: HostForward[] = [];
  for (const r of rewrites) {
    const port = portOf(r.from);
    const guestPort = portOf(r.to);
    if (port === null || guestPort === null) continue;
    out.push({ guestPort, host: r.from.startsWith("[::1]") ? "::1" : "127.0.0.1", port });
  }
  return out;
}

function portOf(host: string): number | null {
  const colon = host.lastIndexOf(":");
  const text = colon === -1 ? "" : host.slice(colon + 1);
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  return port >= 1 && port <= 65535 ? port : null;
}
