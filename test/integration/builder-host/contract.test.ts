import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBuilderContract } from "../../helpers/builder-contract.ts";
import { HostBuilder } from "../../../src/builder/host/host-builder.ts";
import { startEmbeddedRegistry } from "../../../src/registry/embedded-registry.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import { CACHE } from "../../helpers/base-images.ts";

runBuilderContract("host", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-host-contract-"));
  const registry = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
  // buildah storage is a cache like the base images: kept between runs so a warm run is fast.
  const builder = new HostBuilder({ dir: join(CACHE, "host-builder") });
  return {
    builder,
    registry: registry.address,
    registryAuth: registry.auth,
    async cleanup() {
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
