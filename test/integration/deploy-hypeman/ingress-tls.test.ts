import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelineDeps } from "../../../src/core/pipeline-deps.ts";
import type { BuildOutcome } from "../../../src/core/build.ts";
import type { DeployInput, Deployer } from "../../../src/core/deployer.ts";
import { runBuild } from "../../../src/core/run-build.ts";
import { noMetrics } from "../../../src/core/ports.ts";
import { hypemanParts, type HypemanPartsOptions } from "../../../src/deploy/hypeman/hypeman-parts.ts";
import { loadEnv } from "../../../src/config/env.ts";
import { createDefaultParts } from "../../../src/default-parts.ts";
import { createLogger } from "../../../src/log/logger.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { SqliteQueue } from "../../../src/queue/sqlite/sqlite-queue.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { buildRequest } from "../../helpers/build-requests.ts";
import { RecordingReporter, ScriptedBuilder, emptyArchiver, fileConfig, filesSource, fixedPlanner, namer, plan, quietLog } from "../../helpers/pipeline-doubles.ts";

const CONFIG = "deploy:\n  health: /healthz\n";

describe("Hypeman previews over https: the ingress terminating TLS, or microship's public URL in front", () => {
  let fake: HypemanFake;
  let work: string;
  const tuning = { deployer: { pollMs: 5, healthTimeoutMs: 5_000, imageTimeoutMs: 5_000 } };
  const parts = (o: Partial<HypemanPartsOptions> & { domain: string }) => hypemanParts({ baseURL: fake.url, apiKey: fake.token(), tuning, ...o });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "ms-ingress-tls-"));
    fake = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest: "sha256:x" })), registry: "registry.test" });
    fake.deploy.tlsAllowedDomains = ["*.tls.test", "*.p8080.tls.test", "*.flip.test", "*.env.test"];
  });
  after(async () => {
    await fake?.close();
    await rm(work, { recursive: true, force: true });
  });

  /** One push to main through the whole pipeline: the outcome's deploy URL is the GitHub deployment's environment_url. */
  async function build(deployer: Deployer, c: string): Promise<BuildOutcome> {
    const digest = `sha256:${c.repeat(64)}`;
    const sql = new SqliteDatabase(":memory:");
    const store = new SqliteStore(sql);
    const deps: PipelineDeps = {
      source: filesSource({ "index.js": "", ".github/microship.yml": CONFIG }), config: fileConfig, planner: fixedPlanner([plan()]), archiver: emptyArchiver,
      builder: new ScriptedBuilder(async () => ({ digest })), reporter: new RecordingReporter(), store, images: namer, secrets: null,
      links: { detailsUrl: (id) => `http://ms.test/builds/${id}` }, metrics: noMetrics, log: quietLog, workDir: work, buildTimeoutSeconds: 60, progressIntervalMs: 1_000,
      deployer,
    };
    assert.equal((await store.submit(buildRequest({ branch: "main", trigger: "push", sha: c.repeat(40) }))).kind, "created");
    const record = (await new SqliteQueue(sql).claim({ workerId: "w", leaseMs: 60_000, maxRunning: 10 }))!;
    return runBuild(record, new AbortController().signal, deps);
  }

  /** A preview deploy straight to the deployer (port 3000 unless said). */
  async function deploy(deployer: Deployer, slug: string, port = 3000): Promise<{ url: string; instance: string }> {
    const digest = `sha256:${"e".repeat(64)}`;
    const input: DeployInput = {
      owner: "octo", repo: "shop", installationId: 7, app: null, target: { kind: "preview", environment: `preview/${slug}`, slug, transient: true, production: false },
      sha: "e".repeat(40), expiresAt: null, idleMinutes: null, imageRef: `registry.test/octo/shop@${digest}`, digest, port, health: "/", env: {}, signal: AbortSignal.timeout(10_000), log: () => {},
    };
    return deployer.deploy(input);
  }

  const ingressesOf = (domain: string) => [...fake.deploy.ingresses.values()].filter((i) => i.rules[0].match.hostname === `{instance}.${domain}`);

  test("TLS on: the deploy makes the pattern ingress with tls on port 443 (http redirected), and GitHub gets an https URL", async () => {
    const { deployer, wakeRoutes } = parts({ domain: "tls.test", ingressTls: true, publicUrl: "http://ci.example.com:3000" });
    assert.equal(wakeRoutes, null);
    const outcome = await build(deployer, "a");
    assert.equal(outcome.deploy?.ok, true, outcome.deploy?.error ?? "");
    const instance = [...fake.deploy.instances.values()].find((i) => i.name.startsWith("app-production-"))!;
    assert.equal(outcome.deploy?.url, `https://${instance.name}.tls.test`, "Hypeman's ingress serves it: microship's own URL plays no part");
    const [ingress, ...more] = ingressesOf("tls.test");
    assert.equal(more.length, 0);
    assert.deepEqual(ingress!.rules, [{ match: { hostname: "{instance}.tls.test", port: 443 }, target: { instance: "{instance}", port: 3000 }, tls: true, redirect_http: true }]);
    // The dashboard's list and another app port (a domain of its own) say https too.
    const listed = await deployer.list({ owner: "octo", repo: "app" }, AbortSignal.timeout(10_000));
    assert.deepEqual(listed.map((d) => d.url), [`https://${instance.name}.tls.test`]);
    const other = await deploy(deployer, "pr-2", 8080);
    assert.equal(other.url, `https://${other.instance}.p8080.tls.test`);
    assert.equal(ingressesOf("p8080.tls.test")[0]!.rules[0].tls, true);
  });

  test("from the environment: MICROSHIP_HYPEMAN_INGRESS_TLS=1 reaches the deployer", async () => {
    const env = loadEnv({ MICROSHIP_DEPLOYER: "hypeman", HYPEMAN_BASE_URL: fake.url, HYPEMAN_API_KEY: fake.token(), MICROSHIP_DEPLOY_DOMAIN: "env.test", MICROSHIP_REGISTRY: "registry.test", MICROSHIP_HYPEMAN_INGRESS_TLS: "1" });
    const made = await createDefaultParts(env, createLogger("silent"), { builder: new ScriptedBuilder(async () => ({ digest: "sha256:x" })) });
    try {
      const { url, instance } = await deploy(made.deployer!, "pr-9");
      assert.equal(url, `https://${instance}.env.test`);
      assert.equal(ingressesOf("env.test")[0]!.rules[0].tls, true);
    } finally {
      await made.close();
    }
  });

  test("the setting changed: the ingress found by name is made again as asked (Hypeman updates none), and back", async () => {
    const off = await deploy(parts({ domain: "flip.test" }).deployer, "pr-1");
    assert.match(off.url, /^http:\/\/.+\.flip\.test$/);
    const [plain] = ingressesOf("flip.test");
    assert.equal(plain!.rules[0].tls, undefined);
    const on = await deploy(parts({ domain: "flip.test", ingressTls: true }).deployer, "pr-1");
    assert.match(on.url, /^https:\/\/.+\.flip\.test$/);
    const [remade, ...more] = ingressesOf("flip.test");
    assert.equal(more.length, 0, "the plain one is gone, not left serving beside it");
    assert.equal(remade!.name, plain!.name);
    assert.notEqual(remade!.id, plain!.id);
    assert.deepEqual({ port: remade!.rules[0].match.port, tls: remade!.rules[0].tls }, { port: 443, tls: true });
    const again = parts({ domain: "flip.test", ingressTls: true });
    await deploy(again.deployer, "pr-1");
    assert.equal(ingressesOf("flip.test")[0]!.id, remade!.id, "one as asked is kept");
    await deploy(parts({ domain: "flip.test" }).deployer, "pr-1");
    const [back, ...others] = ingressesOf("flip.test");
    assert.equal(others.length, 0);
    assert.deepEqual({ port: back!.rules[0].match.port, tls: back!.rules[0].tls }, { port: 80, tls: undefined });
  });

  test("TLS Hypeman refuses (domain not in its TLS_ALLOWED_DOMAINS): the deploy fails and no instance starts", async () => {
    const before = fake.deploy.created.length;
    await assert.rejects(deploy(parts({ domain: "nope.test", ingressTls: true }).deployer, "pr-3"), /TLS_ALLOWED_DOMAINS/);
    assert.equal(fake.deploy.created.length, before);
    assert.equal(ingressesOf("nope.test").length, 0);
  });

  test("behind the wake layer the URLs are microship's (its public URL's scheme and port, else the port it listens on); the ingress stays plain", async () => {
    const pub = parts({ domain: "wake.test", ingressUrl: fake.ingress.url, publicUrl: "https://ci.example.com:8443" });
    pub.wakeRoutes!.listening(3000);
    const a = await deploy(pub.deployer, "pr-4");
    assert.equal(a.url, `https://${a.instance}.wake.test:8443`);
    assert.deepEqual(ingressesOf("wake.test")[0]!.rules, [{ match: { hostname: "{instance}.wake.test", port: 80 }, target: { instance: "{instance}", port: 3000 } }]);
    const bare = parts({ domain: "wake.test", ingressUrl: fake.ingress.url });
    bare.wakeRoutes!.listening(4100);
    const b = await deploy(bare.deployer, "pr-5");
    assert.equal(b.url, `http://${b.instance}.wake.test:4100`);
    const listed = await bare.deployer.list({ owner: "octo", repo: "shop" }, AbortSignal.timeout(10_000));
    assert.ok(listed.length >= 2 && listed.every((d) => d.url.startsWith("http://") && d.url.endsWith(".wake.test:4100")), JSON.stringify(listed.map((d) => d.url)));
  });
});
