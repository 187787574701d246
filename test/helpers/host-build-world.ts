import { before, after } from "node:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HostBuilder } from "../../src/builder/host/host-builder.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../src/registry/embedded-registry.ts";
import { ensureBaseImages, type BaseImages } from "./base-images.ts";
import { contractArchive, type ContractArchive } from "./contract-archive.ts";
import { cleanupAll } from "./cleanup.ts";
import { quietLog } from "./pipeline-doubles.ts";

export interface HostBuildWorld {
  base: BaseImages;
  /** The embedded registry, behind its authenticating front. */
  registry: EmbeddedRegistry;
  archive: ContractArchive;
  builder: HostBuilder;
}

/**
 * A test file's real host-build world, made before its tests and torn down after them: the
 * stand-in base images, an embedded registry and a host builder in a temp dir of their own.
 */
export function useHostBuildWorld(prefix: string): HostBuildWorld {
  const w = {} as HostBuildWorld;
  let dir = "";
  before(async () => {
    w.base = await ensureBaseImages();
    dir = await mkdtemp(join(tmpdir(), prefix));
    w.registry = await startEmbeddedRegistry({ dataDir: join(dir, "registry"), log: quietLog });
    w.archive = await contractArchive();
    w.builder = new HostBuilder({ dir: join(dir, "host") });
  });
  after(async () => {
    await cleanupAll(
      () => w.builder?.close(),
      () => w.registry?.stop(),
      () => w.base?.stop(),
      () => w.archive?.remove(),
      () => dir && rm(dir, { recursive: true, force: true }),
    );
  });
  return w;
}
