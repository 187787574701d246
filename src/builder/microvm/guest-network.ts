/**
 * The builder VM's network, as the guest sees it (docs/design.md section 5). QEMU's user-mode network runs
 * with restrict=on: the guest reaches no address at all except these forwards, each a connection
 * QEMU hands to a process on the host (guestfwd). images/microvm/init.sh names the same addresses.
 */

/** The host's loopback registries (the image's own, the base-image mirror), each on its own port. */
export const GUEST_REGISTRY_ADDRESS = "10.0.2.100";

/** The egress proxy (egress-proxy.ts): the guest's only way to the internet. */
export const GUEST_PROXY_ADDRESS = "10.0.2.101";
export const GUEST_PROXY_PORT = 3128;
