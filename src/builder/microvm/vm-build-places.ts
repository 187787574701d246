import { rm } from "node:fs/promises";
import type { EgressProxy } from "./egress-proxy.ts";
import type { LayerCacheLease } from "./layer-cache.ts";

/** What one microVM build holds on the host; released whatever way the build ends. */
export interface VmBuildPlaces {
  work: string | null;
  sockDir: string | null;
  netDir: string | null;
  proxy: EgressProxy | null;
  cache: LayerCacheLease | null;
}

export const noPlaces = (): VmBuildPlaces => ({ work: null, sockDir: null, netDir: null, proxy: null, cache: null });

export async function releasePlaces(p: VmBuildPlaces): Promise<void> {
  await p.cache?.release();
  await p.proxy?.close();
  for (const dir of [p.work, p.sockDir, p.netDir]) if (dir) await rm(dir, { recursive: true, force: true });
}
