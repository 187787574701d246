import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { APIError, Hypeman } from "@onkernel/hypeman";
import { InstanceNotFoundError } from "../../../src/core/deployer.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { HypemanDeployer } from "../../../src/deploy/hypeman/hypeman-deployer.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { ScriptedBuilder } from "../../helpers/pipeline-doubles.ts";

// Sleep and wake on Hypeman are its standby and restore, against the fake's instance actions.
describe("hypeman deployer: sleep is standby, wake is restore", () => {
  let fake: HypemanFake;
  let deployer: HypemanDeployer;
  const digest = `sha256:${"c".repeat(64)}`;
  const repo = { owner: "octo", repo: "shop" };
  const signal = () => AbortSignal.timeout(10_000);
  const actions = (what: string) => fake.requests.filter((r) => r.method === "POST" && r.path.endsWith(`/${what}`)).length;
  const stateOf = async (instance: string) => (await deployer.list(repo, signal())).find((d) => d.instance === instance)?.state;

  async function deploy(slug: string): Promise<string> {
    const target = { kind: "preview" as const, environment: `preview/${slug}`, slug, transient: true, production: false };
    const r = await deployer.deploy({
      ...repo, installationId: 7, app: null, target, sha: "a".repeat(40), expiresAt: null, idleMinutes: null,
      imageRef: `registry.test/octo/shop@${digest}`, digest, port: 3000, health: "/", env: {}, signal: signal(), log: () => {},
    });
    return r.instance;
  }

  before(async () => {
    fake = await startHypemanFake({ builder: new ScriptedBuilder(async () => ({ digest })), registry: "registry.test" });
    deployer = new HypemanDeployer({ baseURL: fake.url, apiKey: fake.token(), domain: "preview.test", pollMs: 5, healthTimeoutMs: 5_000, imageTimeoutMs: 5_000 });
  });
  after(() => fake?.close());

  test("standby -> list shows sleeping -> restore -> running; each twice is one action", async () => {
    const instance = await deploy("pr-1");
    assert.equal(await stateOf(instance), "running");
    assert.equal(await deployer.sleep({ ...repo, instance }, signal()), "sleeping");
    assert.equal(await stateOf(instance), "sleeping");
    assert.equal([...fake.deploy.instances.values()].find((i) => i.name === instance)?.state, "Standby");
    assert.equal(await deployer.sleep({ ...repo, instance }, signal()), "sleeping", "asleep already: left so");
    assert.equal(actions("standby"), 1);
    assert.equal(await deployer.wake({ ...repo, instance }, signal()), "running");
    assert.equal(await stateOf(instance), "running");
    assert.equal(await deployer.wake({ ...repo, instance }, signal()), "running", "awake already: left so");
    assert.equal(actions("restore"), 1);
  });

  test("the fake refuses what Hypeman refuses: restore of a running instance, standby of one in standby", async () => {
    const instance = await deploy("pr-2");
    const client = new Hypeman({ baseURL: fake.url, apiKey: fake.token(), maxRetries: 0, logLevel: "off" });
    const conflict = (err: unknown) => err instanceof APIError && err.status === 409 && (err.error as { code?: string }).code === "invalid_state";
    await assert.rejects(client.instances.restore(instance), conflict);
    await client.instances.standby(instance);
    await assert.rejects(client.instances.standby(instance), conflict);
    await assert.rejects(client.instances.restore("no-such-instance"), (err) => err instanceof APIError && err.status === 404);
  });

  test("an instance not listed for the repository is not found; a state Hypeman won't restore is said in the user's words", async () => {
    const instance = await deploy("pr-3");
    await assert.rejects(deployer.sleep({ ...repo, instance: "shop-pr-3-nothing" }, signal()), InstanceNotFoundError);
    await assert.rejects(deployer.wake({ owner: "evil", repo: "shop", instance }, signal()), InstanceNotFoundError, "another repository's key never reaches it");
    // Paused is asleep to list(), but Hypeman restores only from Standby.
    [...fake.deploy.instances.values()].find((i) => i.name === instance)!.state = "Paused";
    await assert.rejects(deployer.wake({ ...repo, instance }, signal()), (err) => isMicroshipError(err) && err.kind === "user" && /would not restore it: invalid state: cannot restore from state Paused/.test(err.message));
  });

  test("a deploy of the image an instance in standby has replaces it with one that serves", async () => {
    const instance = await deploy("pr-4");
    await deployer.sleep({ ...repo, instance }, signal());
    assert.equal(await deploy("pr-4"), instance);
    assert.equal(await stateOf(instance), "running");
  });
});
