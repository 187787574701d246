import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { deployParts } from "../../../src/deploy-parts.ts";
import type { Deployer } from "../../../src/core/deployer.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";

// MICROSHIP_RECONCILE_MINUTES reaches deployParts as minutes; the reconciler waits in ms. Tests of
// the reconciler give it ms directly, so this is where the unit of the production value is held.

function counting(): { deployer: Deployer; passes: () => number } {
  let n = 0;
  const deployer = { name: "stub", describe: () => "stub", deploy: async () => { throw new Error("not used"); }, list: async () => (n++, []), teardown: async () => 0 } as unknown as Deployer;
  return { deployer, passes: () => n };
}

const settle = async () => { for (let i = 0; i < 20; i++) await Promise.resolve(); };

for (const [given, minutes] of [[7, 7], [undefined, 5]] as const) {
  test(`reconcileMinutes ${given ?? "unset"}: the first pass runs ${minutes} minutes after start, not before`, async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { deployer, passes } = counting();
    const parts = deployParts(deployer, async () => { throw new Error("no GitHub here"); }, quietLog, given === undefined ? {} : { reconcileMinutes: given });
    try {
      t.mock.timers.tick(minutes * 60_000 - 1);
      await settle();
      assert.equal(passes(), 0);
      t.mock.timers.tick(1);
      await settle();
      assert.equal(passes(), 1);
    } finally {
      await parts.reconciler!.stop();
    }
  });
}
