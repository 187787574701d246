import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { c as tarCreate } from "tar";
import Hypeman, { toFile } from "@onkernel/hypeman";
import type { BuildInput } from "../../../src/core/builder.ts";
import { HypemanBuilder } from "../../../src/builder/hypeman/hypeman-builder.ts";
import { HostBuilder } from "../../../src/builder/host/host-builder.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../../src/registry/embedded-registry.ts";
import { startHypemanFake, type HypemanFake } from "../../helpers/hypeman-fake/hypeman-fake.ts";
import { contractArchive, type ContractArchive } from "../../helpers/contract-archive.ts";
import { ensureBaseImages, CACHE, type BaseImages } from "../../helpers/base-images.ts";
import { registryDigest, uniqueId } from "../../helpers/contract-probes.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";
import { driveBuild, type BuildOutcome } from "../../helpers/drive-build.ts";


describe("hypeman builder, through the SDK, against the Hypeman fake", () => {
  let base: BaseImages;
  let registry: EmbeddedRegistry;
  let fake: HypemanFake;
  let builder: HypemanBuilder;
  let archive: ContractArchive;
  let dir: string;

  before(async () => {
    base = await ensureBaseImages();
    dir = await mkdtemp(join(tmpdir(), "ms-hypeman-test-"));
    registry = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
    fake = await startHypemanFake({ builder: new HostBuilder({ dir: join(CACHE, "host-builder") }), registry: registry.address, registryAuth: registry.auth, heartbeatMs: 200, secretValues: { npm_token: "server-side-value" } });
    builder = new HypemanBuilder({ baseURL: fake.url, apiKey: fake.token(), log: quietLog, idleMs: 3_000, backoffMs: 50, pollMs: 100, reconnects: 2 });
    archive = await contractArchive();
  }, { timeout: 600_000 });

  after(() => cleanupAll(() => builder?.close(), () => fake?.close(), () => registry?.stop(), () => base?.stop(), () => archive?.remove(), () => dir && rm(dir, { recursive: true, force: true })));

  const input = (o: Partial<BuildInput> & { marker: string }): BuildInput => ({
    buildId: uniqueId(), source: archive.source, imageName: `${registry.address}/octo/app`, tags: [`t-${o.marker}`],
    dockerfile: `FROM ${base.mirror}/busybox:latest\nRUN for i in 1 2 3 4 5 6; do echo line-$i-${o.marker}; done\nCMD ["true"]\n`,
    buildArgs: {}, cacheScope: "octo/app", untrusted: false, registryAuth: registry.auth, noCache: false, timeoutSeconds: 120, secrets: [], runtime: "nodejs24", baseImageDigest: null,
    signal: new AbortController().signal, ...o,
  });
  const reset = () => Object.assign(fake.faults, { dropStreams: { count: 0, afterEvents: 0 }, refuseEvents: 0, logsAtEnd: false, cancelFinished: 500, holdTerminalMs: 0 });
  const lastCreate = () => fake.requests.filter((r) => r.method === "POST" && r.path === "/builds").at(-1)!;
  const texts = (r: BuildOutcome) => r.lines.map((l) => l.text);

  test("a build sends the documented fields, follows the statuses, and tags the registry's digest", async () => {
    reset();
    const marker = uniqueId();
    const r = await driveBuild(builder, input({ marker, secrets: [{ id: "npm_token", value: "never-sent-to-hypeman" }] }));
    assert.equal(r.error, null, String(r.error));
    const f = lastCreate().fields!;
    assert.match(f.dockerfile!, /^FROM .*busybox/);
    assert.equal(f.cache_scope, "octo/app");
    assert.equal(f.timeout_seconds, "120");
    assert.equal(f.runtime, "nodejs24");
    assert.equal(f.image_name, "octo/app");
    assert.deepEqual(JSON.parse(f.secrets!), [{ id: "npm_token" }]);
    assert.ok(!JSON.stringify(f).includes("never-sent-to-hypeman"), "secret values are not sent, only ids");
    const statuses = texts(r).filter((t) => t.startsWith("Hypeman build ")).map((t) => t.split(": ")[1]);
    assert.deepEqual(statuses.filter((s) => !s!.startsWith("queued")), ["building", "pushing", "ready"]);
    assert.equal(await registryDigest(registry.address, "octo/app", `t-${marker}`, registry.auth), r.result!.digest);
    assert.equal(r.result!.imageRef, `${registry.address}/octo/app@${r.result!.digest}`);
  });

  test("a fork PR's build carries its own cache scope", async () => {
    reset();
    const r = await driveBuild(builder, input({ marker: uniqueId(), cacheScope: "octo/app/pr-7" }));
    assert.equal(r.error, null, String(r.error));
    assert.equal(lastCreate().fields!.cache_scope, "octo/app/pr-7");
  });

  test("an event stream that dies halfway is reopened, and no line is lost or doubled", async () => {
    reset();
    fake.faults.dropStreams = { count: 2, afterEvents: 3 };
    const marker = uniqueId();
    const r = await driveBuild(builder, input({ marker }));
    assert.equal(r.error, null, String(r.error));
    for (let i = 1; i <= 6; i++) assert.equal(texts(r).filter((t) => t === `line-${i}-${marker}`).length, 1, `line ${i} exactly once`);
    const id = [...fake.builds.values()].at(-1)!.id;
    assert.ok(fake.requests.filter((q) => q.path === `/builds/${id}/events`).length >= 3, "the stream was reopened");
  });

  test("when the stream can't be reopened, polling still finds the end", async () => {
    reset();
    fake.faults.dropStreams = { count: 1, afterEvents: 1 };
    fake.faults.refuseEvents = 1_000;
    const r = await driveBuild(builder, input({ marker: uniqueId() }));
    fake.faults.refuseEvents = 0;
    assert.equal(r.error, null, String(r.error));
    const id = [...fake.builds.values()].at(-1)!.id;
    assert.ok(fake.requests.filter((q) => q.method === "GET" && q.path === `/builds/${id}`).length >= 3, "polled");
  });

  test("logs that arrive only at the end, in one burst, all reach the log", async () => {
    reset();
    fake.faults.logsAtEnd = true;
    const marker = uniqueId();
    const r = await driveBuild(builder, input({ marker }));
    assert.equal(r.error, null, String(r.error));
    for (let i = 1; i <= 6; i++) assert.ok(texts(r).includes(`line-${i}-${marker}`), `line ${i}`);
  });

  test("a failing RUN is the user's error, named by its step", async () => {
    reset();
    const marker = uniqueId();
    const r = await driveBuild(builder, input({ marker, dockerfile: `FROM ${base.mirror}/busybox:latest\nRUN echo failing-${marker} && exit 4\n` }));
    assert.ok(isMicroshipError(r.error), String(r.error));
    assert.equal(r.error.kind, "user");
    assert.equal(r.error.title, "Build step failed");
    assert.match(r.error.message, /RUN echo failing-.* failed with exit code 4/);
    assert.ok(texts(r).includes(`failing-${marker}`));
  });

  test("a cancel that races the build's end is still a cancel, and the server's 409 or 500 is shrugged off", async () => {
    for (const code of [409, 500] as const) {
      reset();
      fake.faults.cancelFinished = code;
      fake.faults.holdTerminalMs = 3_000;
      const controller = new AbortController();
      const before = fake.builds.size;
      const pending = driveBuild(builder, input({ marker: uniqueId(), signal: controller.signal }));
      // Wait until the server has finished but its stream has not said so yet.
      for (let i = 0; i < 400 && !([...fake.builds.values()][before]?.terminal); i++) await new Promise((res) => setTimeout(res, 25));
      const t0 = Date.now();
      controller.abort();
      const r = await pending;
      assert.ok(isMicroshipError(r.error) && r.error.kind === "cancelled", String(r.error));
      assert.ok(Date.now() - t0 < 10_000);
      const id = [...fake.builds.values()][before]!.id;
      assert.equal(fake.requests.find((q) => q.method === "DELETE" && q.path === `/builds/${id}`)?.status, code);
    }
  });

  test("a wrong token is the operator's problem, and the message says which setting", async () => {
    reset();
    const wrong = new HypemanBuilder({ baseURL: fake.url, apiKey: "not-a-jwt-secret-value", log: quietLog });
    const r = await driveBuild(wrong, input({ marker: uniqueId() }));
    assert.ok(isMicroshipError(r.error), String(r.error));
    assert.equal(r.error.kind, "infra");
    assert.match(r.error.hint ?? "", /HYPEMAN_API_KEY/);
    assert.ok(!r.error.message.includes("not-a-jwt-secret-value"));
  });

  test("the fake opens the tarball: no Dockerfile in it and none sent is a 400 with {code, message}", async () => {
    const tar = join(dir, "no-dockerfile.tar.gz");
    await writeFile(join(dir, "main.py"), "print('hi')\n");
    await tarCreate({ gzip: true, cwd: dir, file: tar }, ["main.py"]);
    const client = new Hypeman({ baseURL: fake.url, apiKey: fake.token(), maxRetries: 0 });
    await assert.rejects(client.builds.create({ source: await toFile(createReadStream(tar), "source.tar.gz") }), (e: { status?: number; error?: { code?: string; message?: string } }) => {
      assert.equal(e.status, 400);
      assert.equal(e.error?.code, "dockerfile_required");
      assert.match(e.error?.message ?? "", /dockerfile/i);
      return true;
    });
    const anonymous = new Hypeman({ baseURL: fake.url, apiKey: "", maxRetries: 0 });
    await assert.rejects(anonymous.builds.list(), (e: { status?: number }) => e.status === 401);
  });
});

