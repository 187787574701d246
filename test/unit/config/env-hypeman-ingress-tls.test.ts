import { test } from "node:test";
import assert from "node:assert/strict";
import { loadEnv } from "../../../src/config/env.ts";

const hypeman = { MICROSHIP_DEPLOYER: "hypeman", HYPEMAN_BASE_URL: "http://hypeman.test", MICROSHIP_DEPLOY_DOMAIN: "preview.example.com", MICROSHIP_REGISTRY: "registry.test" };

test("MICROSHIP_HYPEMAN_INGRESS_TLS: true/false/1/0 only, off by default", () => {
  assert.equal(loadEnv(hypeman).MICROSHIP_HYPEMAN_INGRESS_TLS, false);
  assert.equal(loadEnv({ ...hypeman, MICROSHIP_HYPEMAN_INGRESS_TLS: "" }).MICROSHIP_HYPEMAN_INGRESS_TLS, false, "an empty .env line is unset");
  for (const [v, want] of [["true", true], ["1", true], ["false", false], ["0", false]] as const) {
    assert.equal(loadEnv({ ...hypeman, MICROSHIP_HYPEMAN_INGRESS_TLS: v }).MICROSHIP_HYPEMAN_INGRESS_TLS, want, v);
  }
  for (const bad of ["yes", "on", "TRUE", "ture", "2", " true", "true "]) {
    assert.throws(() => loadEnv({ ...hypeman, MICROSHIP_HYPEMAN_INGRESS_TLS: bad }), /MICROSHIP_HYPEMAN_INGRESS_TLS: expected true, false, 1 or 0/, bad);
  }
});

test("MICROSHIP_HYPEMAN_INGRESS_TLS: refused behind the wake layer and without the hypeman deployer; off is fine anywhere", () => {
  assert.throws(() => loadEnv({ ...hypeman, MICROSHIP_HYPEMAN_INGRESS_TLS: "true", MICROSHIP_HYPEMAN_INGRESS_URL: "http://10.0.0.5:8080" }), /MICROSHIP_HYPEMAN_INGRESS_TLS: not with MICROSHIP_HYPEMAN_INGRESS_URL/);
  assert.throws(() => loadEnv({ MICROSHIP_BUILDER: "host", MICROSHIP_HYPEMAN_INGRESS_TLS: "1" }), /MICROSHIP_HYPEMAN_INGRESS_TLS: only with the hypeman deployer/);
  assert.throws(() => loadEnv({ MICROSHIP_DEPLOYER: "microvm", MICROSHIP_HYPEMAN_INGRESS_TLS: "true" }), /MICROSHIP_HYPEMAN_INGRESS_TLS: only with the hypeman deployer/);
  assert.equal(loadEnv({ MICROSHIP_BUILDER: "host", MICROSHIP_HYPEMAN_INGRESS_TLS: "false" }).MICROSHIP_HYPEMAN_INGRESS_TLS, false);
  assert.equal(loadEnv({ ...hypeman, MICROSHIP_HYPEMAN_INGRESS_TLS: "0", MICROSHIP_HYPEMAN_INGRESS_URL: "http://10.0.0.5:8080" }).MICROSHIP_HYPEMAN_INGRESS_TLS, false);
  // The builder's kind makes the deployer hypeman once the domain is set.
  const implied = { MICROSHIP_BUILDER: "hypeman", HYPEMAN_BASE_URL: "http://hypeman.test", MICROSHIP_DEPLOY_DOMAIN: "preview.example.com", MICROSHIP_HYPEMAN_INGRESS_TLS: "true" };
  assert.equal(loadEnv(implied).MICROSHIP_HYPEMAN_INGRESS_TLS, true);
});
