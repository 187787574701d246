import { test } from "node:test";
import assert from "node:assert/strict";
import { loadEnv, EnvError } from "../../../src/config/env.ts";

test("defaults follow the environment contract", () => {
  const env = loadEnv({});
  assert.equal(env.PORT, 3000);
  assert.equal(env.MICROSHIP_BUILDER, "microvm");
  assert.equal(env.MICROSHIP_CONCURRENCY, 2);
  assert.equal(env.MICROSHIP_BUILD_TIMEOUT, 900);
  assert.equal(env.MICROSHIP_DATA_DIR, "./data");
});

test("every bad value is listed by its variable name", () => {
  try {
    loadEnv({ PORT: "http", MICROSHIP_BUILDER: "docker", MICROSHIP_CONCURRENCY: "0", MICROSHIP_REGISTRY: "not a registry!" });
    assert.fail("expected an EnvError");
  } catch (err) {
    assert.ok(err instanceof EnvError);
    const names = err.problems.map((p) => p.split(":")[0]);
    assert.deepEqual(names.sort(), ["MICROSHIP_BUILDER", "MICROSHIP_CONCURRENCY", "MICROSHIP_REGISTRY", "PORT"]);
  }
});

test("hypeman needs its base URL", () => {
  assert.throws(() => loadEnv({ MICROSHIP_BUILDER: "hypeman" }), /HYPEMAN_BASE_URL/);
});

test("log links, retention and metrics settings: defaults and refusals", () => {
  const env = loadEnv({});
  assert.equal(env.MICROSHIP_LOG_LINK_DAYS, 30);
  assert.equal(env.MICROSHIP_LOG_RETENTION_DAYS, 30);
  assert.equal(env.MICROSHIP_METRICS_PORT, undefined);
  assert.equal(env.MICROSHIP_METRICS_HOST, "127.0.0.1");
  assert.equal(env.MICROSHIP_METRICS_TOKEN, undefined);
  try {
    loadEnv({ MICROSHIP_LOG_LINK_DAYS: "0", MICROSHIP_LOG_RETENTION_DAYS: "forever", MICROSHIP_METRICS_TOKEN: "short", MICROSHIP_METRICS_PORT: "70000" });
    assert.fail("expected an EnvError");
  } catch (err) {
    assert.ok(err instanceof EnvError);
    assert.deepEqual(err.problems.map((p) => p.split(":")[0]).sort(), ["MICROSHIP_LOG_LINK_DAYS", "MICROSHIP_LOG_RETENTION_DAYS", "MICROSHIP_METRICS_PORT", "MICROSHIP_METRICS_TOKEN"]);
  }
  assert.throws(() => loadEnv({ PORT: "8080", MICROSHIP_METRICS_PORT: "8080" }), /MICROSHIP_METRICS_PORT: must differ from PORT/);
});

test("log, source and microVM isolation caps: defaults and refusals", () => {
  const env = loadEnv({});
  assert.equal(env.MICROSHIP_LOG_MAX_MB, 50);
  assert.equal(env.MICROSHIP_SOURCE_MAX_MIB, 512);
  assert.equal(env.MICROSHIP_SOURCE_MAX_FILES, 100_000);
  assert.equal(env.MICROSHIP_EGRESS_ALLOW, "");
  assert.equal(env.MICROSHIP_MICROVM_RUNAS, "per-build");
  try {
    loadEnv({ MICROSHIP_LOG_MAX_MB: "0", MICROSHIP_SOURCE_MAX_MIB: "lots", MICROSHIP_SOURCE_MAX_FILES: "-1", MICROSHIP_MICROVM_RUNAS: "root" });
    assert.fail("expected an EnvError");
  } catch (err) {
    assert.ok(err instanceof EnvError);
    assert.deepEqual(err.problems.map((p) => p.split(":")[0]).sort(), ["MICROSHIP_LOG_MAX_MB", "MICROSHIP_MICROVM_RUNAS", "MICROSHIP_SOURCE_MAX_FILES", "MICROSHIP_SOURCE_MAX_MIB"]);
  }
});

test("MICROSHIP_DEPLOYER follows the builder unless set, and hypeman asks for its server and a domain", async () => {
  const { deployerOf } = await import("../../../src/config/env.ts");
  assert.equal(deployerOf(loadEnv({})), "microvm");
  assert.equal(deployerOf(loadEnv({ MICROSHIP_BUILDER: "host" })), "none");
  assert.equal(deployerOf(loadEnv({ MICROSHIP_BUILDER: "hypeman", HYPEMAN_BASE_URL: "http://h.test" })), "none", "no domain: a hypeman builder alone does not start deploying");
  assert.equal(deployerOf(loadEnv({ MICROSHIP_BUILDER: "hypeman", HYPEMAN_BASE_URL: "http://h.test", MICROSHIP_DEPLOY_DOMAIN: "preview.example.com" })), "hypeman");
  assert.equal(deployerOf(loadEnv({ MICROSHIP_DEPLOYER: "none" })), "none");
  assert.throws(() => loadEnv({ MICROSHIP_BUILDER: "host", MICROSHIP_DEPLOYER: "hypeman" }), /HYPEMAN_BASE_URL: required when MICROSHIP_DEPLOYER=hypeman[\s\S]*MICROSHIP_DEPLOY_DOMAIN: required/);
  assert.throws(() => loadEnv({ MICROSHIP_DEPLOY_DOMAIN: "not a domain" }), /MICROSHIP_DEPLOY_DOMAIN/);
  assert.throws(() => loadEnv({ MICROSHIP_DEPLOYER: "kubernetes" }), /MICROSHIP_DEPLOYER/);
});

test("DATABASE_URL: a Postgres URL, never echoed, and only with MICROSHIP_REGISTRY", () => {
  const url = "postgresql://ms:hunter2secret@db.internal:5432/microship";
  assert.equal(loadEnv({ DATABASE_URL: url, MICROSHIP_REGISTRY: "registry.example.com/team" }).DATABASE_URL, url);
  assert.throws(() => loadEnv({ DATABASE_URL: url }), (err: unknown) => {
    assert.ok(err instanceof EnvError);
    assert.deepEqual(err.problems.map((p) => p.split(":")[0]), ["MICROSHIP_REGISTRY"]);
    assert.match(err.message, /embedded registry lives in a single replica's data dir/);
    assert.doesNotMatch(err.message, /hunter2secret/);
    return true;
  });
  assert.throws(() => loadEnv({ DATABASE_URL: "mysql://root:hunter2secret@db/x", MICROSHIP_REGISTRY: "r.example.com" }), (err: unknown) => {
    assert.ok(err instanceof EnvError);
    assert.match(err.message, /DATABASE_URL: expected a postgres/);
    assert.doesNotMatch(err.message, /hunter2secret/);
    return true;
  });
});

test("the dashboard's OAuth client: both under Probot's names, or neither", () => {
  const env = loadEnv({ GITHUB_CLIENT_ID: "Iv23abc", GITHUB_CLIENT_SECRET: "s3cret" });
  assert.deepEqual([env.GITHUB_CLIENT_ID, env.GITHUB_CLIENT_SECRET], ["Iv23abc", "s3cret"]);
  assert.equal(loadEnv({ GITHUB_CLIENT_ID: "", GITHUB_CLIENT_SECRET: "" }).GITHUB_CLIENT_ID, undefined, "empty is unset");
  for (const half of [{ GITHUB_CLIENT_ID: "Iv23abc" }, { GITHUB_CLIENT_SECRET: "s3cret" }]) {
    assert.throws(() => loadEnv(half), (err) => err instanceof EnvError && /set both/.test(err.problems.join()));
  }
});

test("MICROSHIP_ROLE: all by default, web or worker when asked, nothing else", () => {
  assert.equal(loadEnv({}).MICROSHIP_ROLE, "all");
  const shared = { DATABASE_URL: "postgres://ms@db.internal:5432/ms", MICROSHIP_REGISTRY: "registry.example.com/team" };
  assert.equal(loadEnv({ ...shared, MICROSHIP_ROLE: "web" }).MICROSHIP_ROLE, "web");
  assert.equal(loadEnv({ ...shared, MICROSHIP_ROLE: "worker" }).MICROSHIP_ROLE, "worker");
  // Without a shared database a web replica queues builds nobody runs, and a worker gets no deliveries.
  for (const role of ["web", "worker"]) {
    assert.throws(() => loadEnv({ MICROSHIP_ROLE: role }), (err: unknown) => err instanceof EnvError && err.problems.some((p) => p.startsWith("MICROSHIP_ROLE: ") && p.includes("DATABASE_URL")));
  }
  assert.throws(() => loadEnv({ MICROSHIP_ROLE: "builder" }), (err: unknown) => err instanceof EnvError && /^MICROSHIP_ROLE: /.test(err.problems[0]!));
});
