import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { HostBuilder } from "../../../src/builder/host/host-builder.ts";
import type { BuildInput, BuildOutput, LogLine } from "../../../src/core/builder.ts";
import { isMicroshipError, type MicroshipError } from "../../../src/core/errors.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../../src/registry/embedded-registry.ts";
import { manifestDigest, manifestInfo } from "../../../src/registry/registry-client.ts";
import { ensureBaseImages, CACHE, type BaseImages } from "../../helpers/base-images.ts";
import { contractArchive, type ContractArchive } from "../../helpers/contract-archive.ts";
import { runImageOutput } from "../../helpers/run-image-output.ts";
import { leftoverProcesses, uniqueId } from "../../helpers/contract-probes.ts";
import { quietLog } from "../../helpers/pipeline-doubles.ts";
import { cleanupAll } from "../../helpers/cleanup.ts";

// What the contract leaves to each backend: the host's own messages, provenance and flags.
let base: BaseImages;
let registry: EmbeddedRegistry;
let archive: ContractArchive;
let dir: string;
let builder: HostBuilder;

before(async () => {
  base = await ensureBaseImages();
  dir = await mkdtemp(join(tmpdir(), "ms-host-"));
  registry = await startEmbeddedRegistry({ dataDir: dir, log: quietLog });
  archive = await contractArchive();
  builder = new HostBuilder({ dir: join(CACHE, "host-builder") });
});

after(async () => {
  await cleanupAll(
    () => builder?.close(),
    () => registry?.stop(),
    () => base?.stop(),
    () => archive?.remove(),
    () => dir && rm(dir, { recursive: true, force: true }),
  );
});

function input(dockerfile: string, over: Partial<BuildInput> = {}): BuildInput {
  const id = uniqueId();
  return {
    buildId: id, source: archive.source, dockerfile, imageName: `${registry.address}/host/test`, tags: [id], buildArgs: {},
    cacheScope: "host/test", untrusted: false, registryAuth: registry.auth, noCache: false, timeoutSeconds: 120, secrets: [], runtime: null, baseImageDigest: null,
    signal: new AbortController().signal, ...over,
  };
}

async function drive(i: BuildInput): Promise<{ lines: LogLine[]; result?: BuildOutput; error?: MicroshipError }> {
  const h = builder.build(i);
  const lines: LogLine[] = [];
  const drained = (async () => {
    for await (const l of h.logs) lines.push(l);
  })();
  try {
    const result = await h.result;
    await drained;
    return { lines, result };
  } catch (err) {
    await drained;
    assert.ok(isMicroshipError(err), String(err));
    return { lines, error: err };
  }
}

test("a failing RUN names the step and its exit code", async () => {
  const m = uniqueId();
  const { error } = await drive(input(`FROM ${base.mirror}/busybox:latest\nRUN echo ok-${m}\nRUN echo no-${m} && exit 7\n`));
  assert.equal(error?.kind, "user");
  assert.equal(error?.title, "Build step failed");
  assert.match(error!.message, new RegExp(`^STEP 3/3: RUN echo no-${m} && exit 7 failed with exit code 7\\.$`));
  assert.match(error!.hint ?? "", /exit 7/);
});

test("a missing base image is the user's error", async () => {
  const { error } = await drive(input(`FROM ${base.mirror}/no-such-image:1\nRUN true\n`));
  assert.equal(error?.kind, "user");
  assert.equal(error?.title, "Base image not found");
});

test("build args reach RUN steps; a secret is mounted for the step and kept out of the image and the logs", async () => {
  const m = uniqueId();
  const secret = `s3cret-${uniqueId()}`;
  const hash = createHash("sha256").update(secret).digest("hex");
  const { result, lines, error } = await drive(input(
    `FROM ${base.mirror}/busybox:latest\nARG GREETING\nRUN --mount=type=secret,id=token test "$(sha256sum < /run/secrets/token | cut -d' ' -f1)" = "${hash}" && echo secret-ok-${m} && echo "echoed: $(cat /run/secrets/token)"\nRUN echo "$GREETING-${m}" > /greeting\nCMD ["cat", "/greeting"]\n`,
    { buildArgs: { GREETING: "hi there" }, secrets: [{ id: "token", value: secret }] },
  ));
  assert.equal(error, undefined, error?.message);
  assert.ok(lines.some((l) => l.text === `secret-ok-${m}`));
  assert.ok(!lines.some((l) => l.text.includes(secret)), "the secret never reaches the logs");
  assert.ok(lines.some((l) => l.text === "echoed: ***"), "a secret the build prints is masked");
  assert.equal(await runImageOutput(result!.imageRef, { auth: registry.auth }), `hi there-${m}\n`);
  const leaked = await runImageOutput(result!.imageRef, { auth: registry.auth, args: ["sh", "-c", "ls /run/secrets 2>/dev/null | wc -l"] });
  assert.equal(leaked.trim(), "0");
});

test("provenance: the base image's registry digest and the builder version; size from the pushed manifest", async () => {
  const m = uniqueId();
  const { result, error } = await drive(input(`FROM ${base.mirror}/busybox:latest AS b\nRUN echo ${m}\nFROM ${base.mirror}/busybox:latest\nCOPY --from=b /bin/busybox /x\n`));
  assert.equal(error, undefined, error?.message);
  const [host, ...path] = base.mirror.split("/");
  assert.equal(result!.provenance.baseImageDigest, await manifestDigest(host!, `${path.join("/")}/busybox`, "latest"));
  assert.match(result!.provenance.builderVersion ?? "", /^buildah \d+\.\d+/);
  const info = await manifestInfo(registry.address, "host/test", result!.tags[0]!, { auth: registry.auth });
  assert.equal(info?.mediaType, "application/vnd.oci.image.manifest.v1+json", "pushed in OCI format");
  assert.equal(result!.sizeBytes, info?.sizeBytes);
  assert.match(builder.describe(), /^buildah \d+\.\d+\.\d+ on the host.*no VM isolation/);
});

test("unchanged steps come from the layer cache; noCache builds them again", async () => {
  const m = uniqueId();
  const df = `FROM ${base.mirror}/busybox:latest\nRUN echo ran-${m}\n`;
  const first = await drive(input(df));
  assert.ok(first.lines.some((l) => l.text === `ran-${m}`));
  const cached = await drive(input(df));
  assert.ok(!cached.lines.some((l) => l.text === `ran-${m}`), "the cached step does not run again");
  assert.equal(cached.result?.digest, first.result?.digest);
  const fresh = await drive(input(df, { noCache: true }));
  assert.ok(fresh.lines.some((l) => l.text === `ran-${m}`), "noCache runs the step again");
});

test("a huge log arrives whole while other builds keep the host busy", async () => {
  const m = uniqueId();
  const busy = (k: number) => drive(input(`FROM ${base.mirror}/busybox:latest\nRUN echo busy-${k}-${m} && seq 1 30000 | sed 's/^/noise-/'\n`, { noCache: true }));
  const [huge] = await Promise.all([drive(input(`FROM ${base.mirror}/busybox:latest\nRUN echo ${m} >/dev/null && seq 1 100000 | sed 's/^/line-/'\n`, { noCache: true })), busy(1), busy(2)]);
  const numbers = huge.lines.map((l) => /^line-(\d+)$/.exec(l.text)?.[1]).filter((x) => x !== undefined).map(Number);
  assert.equal(numbers.length, 100_000);
  assert.ok(numbers.every((x, k) => x === k + 1), "in order");
});

test("buildah missing is an infra error", async () => {
  const saved = process.env.PATH;
  process.env.PATH = "/nonexistent";
  try {
    const b = new HostBuilder({ dir: join(dir, "no-buildah") });
    const h = b.build(input(`FROM ${base.mirror}/busybox:latest\n`));
    const drained = (async () => {
      for await (const _ of h.logs);
    })();
    await assert.rejects(h.result, (err) => isMicroshipError(err) && err.kind === "infra" && /scripts\/host-deps\.sh/.test(err.hint ?? ""));
    await drained;
  } finally {
    process.env.PATH = saved;
  }
});

test("a build dies with the app: killing it with SIGKILL leaves no process of the build", async () => {
  const m = uniqueId();
  const i = input(`FROM ${base.mirror}/busybox:latest\nRUN echo started-${m} && sleep 600\n`);
  const script = `
    import { HostBuilder } from ${JSON.stringify(new URL("../../../src/builder/host/host-builder.ts", import.meta.url).href)};
    import { createReadStream } from "node:fs";
    const input = ${JSON.stringify({ ...i, signal: undefined, source: { ...i.source, open: undefined } })};
    input.signal = new AbortController().signal;
    input.source.open = () => createReadStream(input.source.path);
    const h = new HostBuilder({ dir: ${JSON.stringify(join(CACHE, "host-builder"))} }).build(input);
    for await (const l of h.logs) process.stdout.write(l.text + "\\n");
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (c) => {
        out += c;
        // The step's own output, not buildah's STEP line that quotes it.
        if (out.split("\n").includes(`started-${m}`)) resolve();
      });
      child.once("exit", (code) => reject(new Error(`the child exited with ${code}: ${out.slice(-2000)}`)));
    });
    child.kill("SIGKILL");
    assert.deepEqual(await leftoverProcesses([m, i.buildId]), []);
  } finally {
    child.kill("SIGKILL");
  }
});
