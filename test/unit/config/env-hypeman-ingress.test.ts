import { test } from "node:test";
import assert from "node:assert/strict";
import { loadEnv } from "../../../src/config/env.ts";
import { createDefaultParts } from "../../../src/default-parts.ts";
import { HypemanWakeRoutes } from "../../../src/deploy/hypeman/wake-routes.ts";
import { hostKey } from "../../../src/deploy/hypeman/instance-hosts.ts";
import { createLogger } from "../../../src/log/logger.ts";
import { ScriptedBuilder } from "../../helpers/pipeline-doubles.ts";

const hypeman = { MICROSHIP_DEPLOYER: "hypeman", HYPEMAN_BASE_URL: "http://hypeman.test", MICROSHIP_DEPLOY_DOMAIN: "preview.example.com", MICROSHIP_REGISTRY: "registry.test" };

test("MICROSHIP_HYPEMAN_INGRESS_URL: an http or https URL, only with the hypeman deployer; it puts the wake layer in front", async () => {
  assert.equal(loadEnv({ ...hypeman, MICROSHIP_HYPEMAN_INGRESS_URL: "http://10.0.0.5:8080" }).MICROSHIP_HYPEMAN_INGRESS_URL, "http://10.0.0.5:8080");
  assert.equal(loadEnv({ ...hypeman, MICROSHIP_HYPEMAN_INGRESS_URL: "https://10.0.0.5:8443" }).MICROSHIP_HYPEMAN_INGRESS_URL, "https://10.0.0.5:8443");
  for (const bad of ["wss://ingress.test", "ftp://ingress.test", "ingress.test:80", "javascript:alert(1)"]) {
    assert.throws(() => loadEnv({ ...hypeman, MICROSHIP_HYPEMAN_INGRESS_URL: bad }), /MICROSHIP_HYPEMAN_INGRESS_URL/, bad);
  }
  assert.throws(() => loadEnv({ MICROSHIP_BUILDER: "host", MICROSHIP_HYPEMAN_INGRESS_URL: "http://10.0.0.5" }), /MICROSHIP_HYPEMAN_INGRESS_URL: only with the hypeman deployer/);
  const log = createLogger("silent");
  const env = loadEnv({ ...hypeman, MICROSHIP_HYPEMAN_INGRESS_URL: "http://10.0.0.5:8080", MICROSHIP_PUBLIC_URL: "https://CI.preview.example.com" });
  const on = await createDefaultParts(env, log, { builder: new ScriptedBuilder(async () => ({ digest: "sha256:x" })) });
  assert.ok(on.deployRoutes instanceof HypemanWakeRoutes);
  assert.deepEqual(on.deployRoutes.resolve("ci.preview.example.com:443"), { kind: "other" }, "microship's own host under the domain stays its own");
  assert.deepEqual(on.deployRoutes.resolve("a_b.preview.example.com"), { kind: "unknown", name: null });
  assert.equal(on.deployer?.name, "hypeman");
  const off = await createDefaultParts(loadEnv(hypeman), log, { builder: new ScriptedBuilder(async () => ({ digest: "sha256:x" })) });
  assert.equal(off.deployRoutes, null, "without it, the deploy domain's DNS goes to Hypeman's ingress, as before");
  await Promise.all([on.close(), off.close()]);
});

test("the wake layer's hosts: {instance}.{domain} and {instance}.p{port}.{domain}; anything else under the domain is invalid", () => {
  const d = "preview.example.com";
  assert.deepEqual(hostKey(`Shop-PR-1.${d}:80`, d), { kind: "host", host: `shop-pr-1.${d}`, label: "shop-pr-1" });
  assert.deepEqual(hostKey(`shop-pr-1.P8080.${d}.`, d), { kind: "host", host: `shop-pr-1.p8080.${d}`, label: "shop-pr-1.p8080" });
  assert.deepEqual(hostKey("dashboard.example.com", d), { kind: "other" });
  assert.deepEqual(hostKey(undefined, d), { kind: "other" });
  for (const bad of [`a.b.${d}`, `x.p0.${d}`, `x.p65536.${d}`, `x.p8o80.${d}`, `x.p.${d}`, `.p80.${d}`, `a_b.p80.${d}`, `${"a".repeat(300)}.p80.${d}`, `x.p123456.${d}`]) {
    assert.deepEqual(hostKey(bad, d), { kind: "invalid" }, bad);
  }
  assert.deepEqual(hostKey(`${"a.".repeat(50_000)}${d}`, d), { kind: "invalid" });
});
