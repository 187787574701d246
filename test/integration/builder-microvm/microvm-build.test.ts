import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { c as tarCreate } from "tar";
import type { BuildInput, LogLine, SourceArchive } from "../../../src/core/builder.ts";
import { MicroVmBuilder } from "../../../src/builder/microvm/microvm-builder.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../../src/registry/embedded-registry.ts";
import { CACHE, ensureBaseImages, type BaseImages } from "../../helpers/base-images.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";
import { driveBuild, type BuildOutcome } from "../../helpers/drive-build.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import { registryDigest, uniqueId } from "../../helpers/contract-probes.ts";
import { runImageOutput } from "../../helpers/run-image-output.ts";

/**
 * A tiny app built in a real microVM (TCG here). The VM image is built once into the test cache
 * (a few minutes the first time) and reused while images/microvm/ is unchanged.
 */
const TIMEOUT = 900_000;


describe("microvm builder", { timeout: TIMEOUT * 4 }, () => {
  let base: BaseImages;
  let registry: EmbeddedRegistry;
  let builder: MicroVmBuilder;
  let dir: string;
  let source: SourceArchive;
  const vmPids = new Map<string, number>();

  before(async () => {
    base = await ensureBaseImages();
    dir = await mkdtemp(join(tmpdir(), "ms-microvm-test-"));
    registry = await startEmbeddedRegistry({ dataDir: join(dir, "registry"), log: quietLog });
    builder = new MicroVmBuilder({
      dataDir: join(CACHE, "microvm"),
      log: quietLog,
      insecureRegistries: [base.registry],
      imageProgress: (l) => process.stderr.write(`${l}\n`),
      onVmStart: (pid, id) => vmPids.set(id, pid),
    });
    await builder.prepare();
    source = await tinyApp(dir);
  }, { timeout: TIMEOUT });

  after(async () => {
    await cleanupAll(
      () => builder?.close(),
      () => registry?.stop(),
      () => base?.stop(),
      () => dir && rm(dir, { recursive: true, force: true }),
    );
  });

  const input = (dockerfile: string, over: Partial<BuildInput> = {}): BuildInput => {
    const id = uniqueId();
    return {
      buildId: id, source, dockerfile, imageName: `${registry.address}/tests/microvm-app`, tags: [id, `${id}-b`],
      buildArgs: { GREETING: "hello-from-arg" }, cacheScope: "tests/microvm-app", untrusted: false, registryAuth: registry.auth, noCache: false, timeoutSeconds: 300,
      secrets: [], runtime: null, baseImageDigest: null, signal: new AbortController().signal, ...over,
    };
  };

  test("describe() names the accelerator and why", () => {
    assert.match(builder.describe(), /QEMU microvm, (KVM|TCG)/);
    assert.ok(builder.accelerator.reason.length > 10);
  });

  test("a tiny app: live log lines, the registry's digest, and an image that runs", { timeout: TIMEOUT }, async () => {
    const marker = uniqueId();
    const i = input(
      `FROM ${base.mirror}/busybox:latest\nARG GREETING\nCOPY hello.txt /app/hello.txt\n` +
        `RUN echo first-${marker} && sleep 3 && echo second-${marker} && echo "$GREETING" >> /app/hello.txt\n` +
        `RUN --mount=type=secret,id=npm_token test "$(sha256sum < /run/secrets/npm_token | cut -d' ' -f1)" = ${sha256(`secret-value-${marker}`)} && echo secret-mounted-${marker}\n` +
        `CMD ["cat", "/app/hello.txt"]\n`,
      { secrets: [{ id: "npm_token", value: `secret-value-${marker}` }] },
    );
    const r = await driveBuild(builder, i);
    assert.equal(r.error, null, `${describeError(r.error)}\n${tail(r.lines)}`);
    const first = r.lines.find((l) => l.text === `first-${marker}`);
    const second = r.lines.find((l) => l.text === `second-${marker}`);
    assert.ok(first && second, tail(r.lines));
    // Streamed as they happen: the sleep between them shows in their arrival times, and the
    // first arrives well before the result.
    assert.ok(second.ts - first.ts >= 2_000, `lines ${second.ts - first.ts} ms apart: they came in one burst`);
    assert.ok(r.settledAt - first.ts >= 2_000, "the first line arrived only with the result");
    const out = r.result!;
    for (const tag of i.tags) assert.equal(await registryDigest(registry.address, "tests/microvm-app", tag, registry.auth), out.digest);
    assert.equal(out.imageRef, `${i.imageName}@${out.digest}`);
    assert.equal(out.provenance.sourceHash, source.sha256);
    assert.match(out.provenance.baseImageDigest ?? "", /^sha256:/);
    assert.match(out.provenance.builderVersion ?? "", /buildah .* microVM/);
    assert.ok(r.lines.some((l) => l.text === `secret-mounted-${marker}`), "the secret is mounted as a file");
    assert.ok(!r.lines.some((l) => l.text.includes(`secret-value-${marker}`)), "a secret never reaches the log");
    assert.equal(await runImageOutput(`${registry.address}/tests/microvm-app@${out.digest}`, { auth: registry.auth }), "hello from a microVM\nhello-from-arg\n");
  });

  test("a failing RUN is the user's error, with its lines in the log", { timeout: TIMEOUT }, async () => {
    const marker = uniqueId();
    const r = await driveBuild(builder, input(`FROM ${base.mirror}/busybox:latest\nRUN echo about-to-fail-${marker} && exit 3\n`));
    assert.ok(isMicroshipError(r.error), describeError(r.error));
    assert.equal(r.error.kind, "user", describeError(r.error));
    assert.match(r.error.message, /RUN echo about-to-fail/);
    assert.ok(r.lines.some((l) => l.text === `about-to-fail-${marker}`), tail(r.lines));
  });

  test("a rebuild in the same cache scope reuses the layers of the last one; another scope and --no-cache don't", { timeout: TIMEOUT }, async () => {
    const marker = uniqueId();
    const scope = `tests/cache-${marker}`;
    const dockerfile = `FROM ${base.mirror}/busybox:latest\nRUN echo step-ran-${marker}\n`;
    const ran = (o: BuildOutcome) => o.lines.some((l) => l.text === `step-ran-${marker}`);
    const said = (o: BuildOutcome, what: RegExp) => o.lines.some((l) => what.test(l.text));

    const first = await driveBuild(builder, input(dockerfile, { cacheScope: scope }));
    assert.equal(first.error, null, tail(first.lines));
    assert.ok(ran(first) && said(first, /layer cache of tests\/cache-.*: none yet/), tail(first.lines));

    const second = await driveBuild(builder, input(dockerfile, { cacheScope: scope }));
    assert.equal(second.error, null, tail(second.lines));
    assert.ok(said(second, /reused from an earlier build/), tail(second.lines));
    assert.ok(!ran(second) && said(second, /Using cache/), `the RUN step ran again:\n${tail(second.lines)}`);
    assert.equal(second.result!.digest, first.result!.digest, "the same layers give the same image");

    const other = await driveBuild(builder, input(dockerfile, { cacheScope: `${scope}/pr-1` }));
    assert.ok(ran(other), `a fork PR's scope must not read the base's cache:\n${tail(other.lines)}`);

    const fresh = await driveBuild(builder, input(dockerfile, { cacheScope: scope, noCache: true }));
    assert.ok(ran(fresh) && said(fresh, /dropped, as --no-cache asks/), tail(fresh.lines));
  });

  test("a VM killed mid-build is an infra error, long before the timeout", { timeout: TIMEOUT }, async () => {
    const marker = uniqueId();
    const i = input(`FROM ${base.mirror}/busybox:latest\nRUN echo running-${marker} && sleep 600\n`);
    let killedAt = 0;
    const r = await driveBuild(builder, i, (l) => {
      if (l.text === `running-${marker}` && !killedAt) {
        killedAt = Date.now();
        process.kill(vmPids.get(i.buildId)!, "SIGKILL");
      }
    });
    assert.ok(killedAt > 0, tail(r.lines));
    assert.ok(isMicroshipError(r.error) && r.error.kind === "infra", describeError(r.error));
    assert.ok(r.settledAt - killedAt < 10_000, `settled ${r.settledAt - killedAt} ms after the kill`);
  });

  test("a cancel stops QEMU within 10 s, and no QEMU of that build is left", { timeout: TIMEOUT }, async () => {
    const marker = uniqueId();
    const controller = new AbortController();
    const i = input(`FROM ${base.mirror}/busybox:latest\nRUN echo waiting-${marker} && sleep 600\n`, { signal: controller.signal });
    let abortedAt = 0;
    const r = await driveBuild(builder, i, (l) => {
      if (l.text === `waiting-${marker}` && !abortedAt) {
        abortedAt = Date.now();
        controller.abort();
      }
    });
    assert.ok(abortedAt > 0, tail(r.lines));
    assert.ok(isMicroshipError(r.error) && r.error.kind === "cancelled", describeError(r.error));
    assert.ok(r.settledAt - abortedAt < 10_000, `settled ${r.settledAt - abortedAt} ms after the abort`);
    assert.equal(alive(vmPids.get(i.buildId)!), false, "the build's QEMU is gone");
  });
});

async function tinyApp(dir: string): Promise<SourceArchive> {
  const app = join(dir, "app");
  await import("node:fs/promises").then((fs) => fs.mkdir(app));
  writeFileSync(join(app, "hello.txt"), "hello from a microVM\n");
  writeFileSync(join(app, "Dockerfile"), "FROM scratch\n# a decoy: the builder must use the Dockerfile it is given\n");
  const path = join(dir, "source.tar.gz");
  await tarCreate({ gzip: true, cwd: app, file: path, portable: true }, ["hello.txt", "Dockerfile"]);
  return { open: () => createReadStream(path), path, sha256: createHash("sha256").update(readFileSync(path)).digest("hex"), sizeBytes: statSync(path).size, fileCount: 2 };
}


function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function describeError(err: unknown): string {
  if (err === null) return "no error";
  return isMicroshipError(err) ? `${err.kind}: ${err.message}` : String(err);
}

function tail(lines: LogLine[]): string {
  return lines.slice(-40).map((l) => `  ${l.stream}: ${l.text}`).join("\n");
}
