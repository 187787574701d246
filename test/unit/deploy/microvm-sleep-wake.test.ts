import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InstanceNotFoundError, sleepable } from "../../../src/core/deployer.ts";
import { MicroVmDeployer } from "../../../src/deploy/microvm/microvm-deployer.ts";
import { RouteTable } from "../../../src/deploy/proxy/route-table.ts";

// The microvm deployer's sleep and wake are the sleeper's (test/integration/deploy-proxy/preview-sleep.test.ts
// drives those with stand-in VMs); here: the port sees them, and a key it has no VM for is not found.
test("the microvm deployer has sleep and wake; an instance it runs no VM for is not found, and nothing is started", async () => {
  // Its own data dir: the deployer owns its state dir, and a shared fixed path would collide with another run.
  const dataDir = mkdtempSync(join(tmpdir(), "ms-sleep-wake-"));
  const deployer = new MicroVmDeployer({ dataDir, routes: new RouteTable({ domain: "localhost" }), accelerator: "tcg" });
  try {
    assert.ok(sleepable(deployer));
    const key = { owner: "octo", repo: "shop", instance: "pr-1-shop-aaaaaa-0123456789ab" };
    await assert.rejects(deployer.sleep(key), InstanceNotFoundError);
    await assert.rejects(deployer.wake(key, AbortSignal.timeout(1000)), (err) => err instanceof InstanceNotFoundError && /no instance pr-1-shop-aaaaaa-0123456789ab of octo\/shop/.test(err.message));
    assert.deepEqual(await deployer.list(null, AbortSignal.timeout(1000)), []);
  } finally {
    await deployer.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
