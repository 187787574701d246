import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildInput } from "../../../src/core/builder.ts";
import { HypemanBuilder } from "../../../src/builder/hypeman/hypeman-builder.ts";
import { HostBuilder } from "../../../src/builder/host/host-builder.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../../src/registry/embedded-registry.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { startTcpGate, type TcpGate } from "../../helpers/hypeman-fake/tcp-gate.ts";
import { contractArchive, type ContractArchive } from "../../helpers/contract-archive.ts";
import { ensureBaseImages, CACHE, type BaseImages } from "../../helpers/base-images.ts";
import { uniqueId } from "../../helpers/contract-probes.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";
import { driveBuild, type BuildOutcome } from "../../helpers/drive-build.ts";

// Two Hypeman fakes behind one pool; B sits behind a TCP gate that can refuse connections.
// The pool's clock is the test's: backoffs and capacity readings expire when the test says.
describe("hypeman pool: builds spread over two Hypeman fakes, one of which fails", () => {
  let base: BaseImages;
  let registry: EmbeddedRegistry;
  let a: HypemanFake;
  let b: HypemanFake;
  let gate: TcpGate;
  let pool: HypemanBuilder;
  let archive: ContractArchive;
  let dir: string;
  let clock = 1_000_000;
  const TTL = 5_000;
  const BACKOFF = 30_000;

  before(async () => {
    base = await ensureBaseImages();
    dir = await mkdtemp(join(tmpdir(), "ms-hypeman-pool-"));
    registry = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
    const fake = () => startHypemanFake({ builder: new HostBuilder({ dir: join(CACHE, "host-builder") }), registry: registry.address, registryAuth: registry.auth, heartbeatMs: 200, jwtSecret: "pool-test-jwt-secret" });
    [a, b] = await Promise.all([fake(), fake()]);
    gate = await startTcpGate({ host: "127.0.0.1", port: Number(new URL(b.url).port) });
    pool = new HypemanBuilder({
      baseURL: [a.url, gate.url], apiKey: a.token(), log: quietLog, idleMs: 3_000, backoffMs: 50, pollMs: 100,
      pool: { capacityTtlMs: TTL, backoffMs: BACKOFF, maxBackoffMs: 4 * BACKOFF, now: () => clock },
    });
    archive = await contractArchive();
  }, { timeout: 600_000 });

  after(() => cleanupAll(() => pool?.close(), () => gate?.close(), () => a?.close(), () => b?.close(), () => registry?.stop(), () => base?.stop(), () => archive?.remove(), () => dir && rm(dir, { recursive: true, force: true })));

  const input = (cacheScope: string): BuildInput => ({
    buildId: uniqueId(), source: archive.source, imageName: `${registry.address}/octo/pool`, tags: [`t-${uniqueId()}`],
    dockerfile: `FROM ${base.mirror}/busybox:latest\nRUN echo built-${uniqueId()}\nCMD ["true"]\n`,
    buildArgs: {}, cacheScope, untrusted: false, registryAuth: registry.auth, noCache: false, timeoutSeconds: 120, secrets: [], runtime: null, baseImageDigest: null,
    signal: new AbortController().signal,
  });
  /** Past every backoff and reading, with both servers healthy and the given room, in builds. */
  const fresh = async (roomA: number, roomB: number) => {
    clock += 10 * BACKOFF;
    await gate.open();
    for (const f of [a, b]) Object.assign(f.faults, { unavailable: false, failCreates: 0 });
    a.resources.freeFor(roomA);
    b.resources.freeFor(roomB);
  };
  /** Which fake created the build of this scope last: "a", "b", or null. */
  const ranOn = (scope: string): "a" | "b" | null => {
    const last = (f: HypemanFake) => Math.max(-1, ...[...f.builds.values()].filter((x) => x.request.cacheScope === scope).map((x) => x.createdAt.getTime()));
    const [ta, tb] = [last(a), last(b)];
    return ta < 0 && tb < 0 ? null : ta >= tb ? "a" : "b";
  };
  const creates = (f: HypemanFake) => f.requests.filter((r) => r.method === "POST" && r.path === "/builds").length;
  const reads = (f: HypemanFake) => f.requests.filter((r) => r.path === "/resources").length;
  const ok = (r: BuildOutcome) => assert.equal(r.error, null, String(r.error));
  const host = (url: string) => new URL(url).host;

  test("the pool describes itself, and the log names the server that took the build", async () => {
    await fresh(6, 2);
    assert.match(pool.describe(), /^Hypeman pool of 2 servers \(127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+; a microVM per build\)$/);
    const r = await driveBuild(pool, input(`octo/log-${uniqueId()}`));
    ok(r);
    assert.ok(r.lines.some((l) => l.text === `submitting to Hypeman at ${host(a.url)}`), r.lines.map((l) => l.text).join("\n"));
  });

  test("builds go to the server with the most free capacity", async () => {
    await fresh(2, 6);
    const one = `octo/one-${uniqueId()}`;
    ok(await driveBuild(pool, input(one)));
    assert.equal(ranOn(one), "b");
    await fresh(6, 2);
    const two = `octo/two-${uniqueId()}`;
    ok(await driveBuild(pool, input(two)));
    assert.equal(ranOn(two), "a");
  });

  test("a burst reads each server's capacity once, and counts the builds it placed against it", async () => {
    await fresh(3, 2);
    const [ra, rb] = [reads(a), reads(b)];
    const scopes = [1, 2, 3].map((i) => `octo/burst-${i}-${uniqueId()}`);
    const results = await Promise.all(scopes.map((s) => driveBuild(pool, input(s))));
    results.forEach(ok);
    assert.deepEqual([reads(a) - ra, reads(b) - rb], [1, 1], "one capacity reading per server for the whole burst");
    assert.deepEqual(scopes.map(ranOn).sort(), ["a", "a", "b"], "A had room for 3 builds and B for 2: the third went to B");
  });

  test("a scope goes back to the server that built it while that one has room, and moves when it is full", async () => {
    await fresh(4, 4);
    const sticky = `octo/sticky-${uniqueId()}`;
    ok(await driveBuild(pool, input(sticky)));
    assert.equal(ranOn(sticky), "a", "a tie goes to the first server");
    await fresh(2, 8);
    ok(await driveBuild(pool, input(sticky)));
    assert.equal(ranOn(sticky), "a", "B is freer, but A has room and the scope's cache");
    const other = `octo/other-${uniqueId()}`;
    ok(await driveBuild(pool, input(other)));
    assert.equal(ranOn(other), "b", "a new scope goes to the freest");
    await fresh(0, 8);
    ok(await driveBuild(pool, input(sticky)));
    assert.equal(ranOn(sticky), "b", "A is full: the scope moves");
  });

  test("a refused connection moves the build to the other server; the failed one is left out, then read again after its backoff", async () => {
    await fresh(2, 6);
    ok(await driveBuild(pool, input(`octo/warm-${uniqueId()}`)));
    await gate.shut();
    const [createsA, createsB] = [creates(a), creates(b)];
    const moved = await driveBuild(pool, input(`octo/moved-${uniqueId()}`));
    ok(moved);
    const texts = moved.lines.map((l) => l.text);
    assert.ok(texts.includes(`submitting to Hypeman at ${host(gate.url)}`), "B was picked, from its reading");
    assert.ok(texts.some((t) => t.startsWith(`Hypeman at ${host(gate.url)} can't be reached (ECONNREFUSED); the build goes to another server`)), texts.join("\n"));
    assert.ok(texts.includes(`submitting to Hypeman at ${host(a.url)}`));
    assert.deepEqual([creates(a) - createsA, creates(b) - createsB], [1, 0], "created once, on A");

    await gate.open();
    clock += BACKOFF / 2;
    const seenByB = b.requests.length;
    const during = `octo/during-${uniqueId()}`;
    ok(await driveBuild(pool, input(during)));
    assert.equal(ranOn(during), "a");
    assert.equal(b.requests.length, seenByB, "B is back, but its backoff has not run out: not even read");

    clock += BACKOFF;
    const after = `octo/after-${uniqueId()}`;
    ok(await driveBuild(pool, input(after)));
    assert.equal(b.requests[seenByB]?.path, "/resources", "after its backoff, B is read again first");
    assert.equal(ranOn(after), "b", "and, being the freest, takes the build");
  });

  test("a 500 on create ends that build without trying it elsewhere, and the server is left out", async () => {
    await fresh(2, 6);
    b.faults.failCreates = 1;
    const createsA = creates(a);
    const r = await driveBuild(pool, input(`octo/five-${uniqueId()}`));
    assert.ok(isMicroshipError(r.error) && r.error.kind === "infra", String(r.error));
    assert.match(r.error.message, new RegExp(`Hypeman at ${host(gate.url).replace(/\./g, "\\.")} answered 500`));
    assert.equal(creates(a), createsA, "the server answered: it may have the build, so no second one elsewhere");
    clock += TTL * 2;
    const next = `octo/next-${uniqueId()}`;
    ok(await driveBuild(pool, input(next)));
    assert.equal(ranOn(next), "a", "B is out for its backoff");
  });

  test("a server whose resources answer 503 is left out", async () => {
    await fresh(2, 6);
    b.faults.unavailable = true;
    const scope = `octo/unavailable-${uniqueId()}`;
    ok(await driveBuild(pool, input(scope)));
    assert.equal(ranOn(scope), "a");
    assert.equal(b.requests.at(-1)?.path, "/resources");
    assert.equal(b.requests.at(-1)?.status, 503);
  });

  test("with every server down the build is an infra error naming each server and why, and no token", async () => {
    await fresh(4, 4);
    await gate.shut();
    a.faults.unavailable = true;
    const [createsA, createsB] = [creates(a), creates(b)];
    const r = await driveBuild(pool, input(`octo/down-${uniqueId()}`));
    assert.ok(isMicroshipError(r.error) && r.error.kind === "infra", String(r.error));
    assert.equal(r.error.title, "Hypeman servers unavailable");
    assert.ok(r.error.message.includes(`${host(a.url)} (answered 503: the server is unavailable, left out for 30 s more)`), r.error.message);
    // B failed before, with no build in between: its backoff has doubled up to the cap.
    assert.ok(r.error.message.includes(`${host(gate.url)} (can't be reached (ECONNREFUSED), left out for ${(4 * BACKOFF) / 1000} s more)`), r.error.message);
    assert.match(r.error.hint ?? "", /HYPEMAN_BASE_URL/);
    assert.ok(!JSON.stringify({ m: r.error.message, h: r.error.hint, l: r.lines }).includes(a.token().split(".")[2]!), "no token");
    assert.deepEqual([creates(a), creates(b)], [createsA, createsB]);
  });

  test("one URL works as before: no capacity reading, and a failure leaves it in", async () => {
    await fresh(0, 0);
    const single = new HypemanBuilder({ baseURL: a.url, apiKey: a.token(), log: quietLog, idleMs: 3_000, backoffMs: 50, pollMs: 100, pool: { now: () => clock } });
    try {
      assert.equal(single.describe(), `Hypeman at ${host(a.url)} (a microVM per build)`);
      const readsBefore = reads(a);
      a.faults.failCreates = 1;
      const failed = await driveBuild(single, input(`octo/single-${uniqueId()}`));
      assert.ok(isMicroshipError(failed.error) && failed.error.kind === "infra", String(failed.error));
      ok(await driveBuild(single, input(`octo/single-${uniqueId()}`)));
      assert.equal(reads(a), readsBefore, "never read");
    } finally {
      await single.close();
    }
  });
});
