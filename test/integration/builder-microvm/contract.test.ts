import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBuilderContract } from "../../helpers/builder-contract.ts";
import { MicroVmBuilder } from "../../../src/builder/microvm/microvm-builder.ts";
import { startEmbeddedRegistry } from "../../../src/registry/embedded-registry.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import { CACHE } from "../../helpers/base-images.ts";

// The same cases as every backend, each build in its own microVM (TCG on this kind of host).
runBuilderContract(
  "microvm",
  async ({ base }) => {
    const dir = await mkdtemp(join(tmpdir(), "ms-microvm-contract-"));
    const registry = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
    // The VM image is a cache like the base images, shared with the other microvm tests.
    // The base-image mirror is on the host's loopback: a build reaches it only when told it may.
    const builder = new MicroVmBuilder({ dataDir: join(CACHE, "microvm"), log: quietLog, insecureRegistries: [base.registry], imageProgress: (l) => process.stderr.write(`${l}\n`) });
    await builder.prepare();
    return {
      builder,
      registry: registry.address,
      registryAuth: registry.auth,
      async cleanup() {
        await builder.close();
        await registry.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  // The timeout case's deadline clock starts when the guest agent starts the build; the boot comes first.
  { testTimeoutMs: 900_000, deadlineSlackMs: 30_000 },
);
