import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBuilderContract } from "../../helpers/builder-contract.ts";
import { HypemanBuilder } from "../../../src/builder/hypeman/hypeman-builder.ts";
import { HostBuilder } from "../../../src/builder/host/host-builder.ts";
import { startEmbeddedRegistry } from "../../../src/registry/embedded-registry.ts";
import { startHypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import { CACHE } from "../../helpers/base-images.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

// The same cases as every backend, through the official SDK, against the Hypeman fake.
runBuilderContract("hypeman", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-hypeman-contract-"));
  const registry = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
  const fake = await startHypemanFake({ builder: new HostBuilder({ dir: join(CACHE, "host-builder") }), registry: registry.address, registryAuth: registry.auth, heartbeatMs: 500 });
  const builder = new HypemanBuilder({ baseURL: fake.url, apiKey: fake.token(), log: quietLog, idleMs: 5_000, backoffMs: 100, pollMs: 250 });
  return {
    builder,
    registry: registry.address,
    registryAuth: registry.auth,
    cleanup: () => cleanupAll(() => builder.close(), () => fake.close(), () => registry.stop(), () => rm(dir, { recursive: true, force: true })),
  };
});
