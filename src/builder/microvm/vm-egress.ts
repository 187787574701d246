import { chown, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EgressPolicy } from "./egress-policy.ts";
import { startEgressProxy } from "./egress-proxy.ts";
import type { VmBuildPlaces } from "./vm-build-places.ts";

// A build that probes the network could fill its log with refusals; the first few say enough.
const REFUSALS_SHOWN = 20;

/** The VM's egress proxy, on a socket in a directory of its own that only the VM's user can enter. */
export async function startVmEgress(places: VmBuildPlaces, o: { policy: EgressPolicy; user: { uid: number; gid: number } | null; system(text: string): void }): Promise<string> {
  places.netDir = await mkdtemp(join(tmpdir(), "msvm-net-"));
  const egressSocket = join(places.netDir, "egress.sock");
  let refused = 0;
  places.proxy = await startEgressProxy({
    listen: egressSocket,
    policy: o.policy,
    onRefused: (target, why) => {
      if (++refused <= REFUSALS_SHOWN) o.system(`network: refused ${target}: ${why}`);
      if (refused === REFUSALS_SHOWN + 1) o.system("network: more connections were refused; not showing them");
    },
  });
  if (o.user) {
    await chown(places.netDir, o.user.uid, o.user.gid);
    await chown(egressSocket, o.user.uid, o.user.gid);
  }
  return egressSocket;
}
