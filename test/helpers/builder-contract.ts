/**
 * The Builder contract: the cases every backend (host, hypeman, microvm) must pass.
 *
 *   import { runBuilderContract } from "../../helpers/builder-contract.ts";
 *   runBuilderContract("host", async ({ base }) => {
 *     const registry = await startEmbeddedRegistry({ dataDir, log });
 *     return { builder: new HostBuilder({ dir }), registry: registry.address, cleanup: () => registry.stop() };
 *   });
 *
 * `runBuilderContract(name, makeBuilder, options?)` registers one `describe(name)` with a
 * `before` that calls `ensureBaseImages()` and then `makeBuilder({ base })` once, an `after`
 * that calls `cleanup()` and stops the base images, and these tests:
 *   - success: FROM <mirror>/busybox:latest; the digest is the registry's (skopeo inspect, every
 *     tag), the image runs and prints its text, provenance has the source and lockfile hashes,
 *     and the given Dockerfile text wins over the archive's own Dockerfile;
 *   - a failing RUN: rejects with kind "user", and the failing lines are in the logs;
 *   - a timeout: rejects with kind "timeout" within 10 s of the deadline, no process left;
 *   - a cancel through the AbortSignal: rejects with kind "cancelled" within 10 s, no process left;
 *   - a huge log: 100,000 lines arrive in order, none lost;
 *   - a secret's value, or the push password, printed by the build shows masked (***) in the
 *     logs, and not at all in the error of the step that failed;
 *   - non-UTF-8 bytes become U+FFFD; ANSI escapes are removed.
 * The last three read one build, whose steps print each case in turn.
 *
 * makeBuilder gets the base images (host view) and returns:
 *   builder   the backend under test;
 *   registry  host:port (as the test host reaches it) to push to; images go to
 *             `<registry>/contract/<name>`, plain HTTP;
 *   cleanup   stops whatever makeBuilder started;
 *   baseMirror (optional) the FROM prefix as the builder reaches the base registry, e.g.
 *             `10.0.2.2:PORT/library` from a microVM guest; default `base.mirror`;
 *   imageRegistry (optional) the registry as the builder names it in `imageName`, when the
 *             builder can't reach `registry` under that name; default `registry`.
 * "No process left" means `pgrep -f` finds neither the RUN step's unique marker nor the build id.
 */
import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import type { Builder, BuildInput, LogLine } from "../../src/core/builder.ts";
import { isMicroshipError } from "../../src/core/errors.ts";
import type { RegistryCredential } from "../../src/core/ports.ts";
import { ensureBaseImages, type BaseImages } from "./base-images.ts";
import { contractArchive, type ContractArchive } from "./contract-archive.ts";
import { runImageOutput } from "./run-image-output.ts";
import { leftoverProcesses, registryDigest, uniqueId } from "./contract-probes.ts";
import { cleanupAll } from "./cleanup.ts";
import { driveBuild, type BuildOutcome } from "./drive-build.ts";

export interface ContractBackend {
  builder: Builder;
  registry: string;
  /** The registry's operator credential: builds get it to push, probes to read. */
  registryAuth?: RegistryCredential | null;
  cleanup(): Promise<void>;
  baseMirror?: string;
  imageRegistry?: string;
}

export interface ContractOptions {
  /** Per test; the default suits the host backend and a TCG microVM (10 min). */
  testTimeoutMs?: number;
  /** Added to the timeout case's 10 s bound, for backends that boot before the deadline clock starts. */
  deadlineSlackMs?: number;
}


export function runBuilderContract(name: string, makeBuilder: (ctx: { base: BaseImages }) => Promise<ContractBackend>, options: ContractOptions = {}): void {
  const timeout = options.testTimeoutMs ?? 600_000;
  describe(`Builder contract: ${name}`, { timeout: timeout * 8 }, () => {
    let base: BaseImages;
    let backend: ContractBackend;
    let archive: ContractArchive;
    let from: string;

    before(async () => {
      base = await ensureBaseImages();
      backend = await makeBuilder({ base });
      archive = await contractArchive();
      from = `${backend.baseMirror ?? base.mirror}/busybox:latest`;
    }, { timeout });

    after(async () => {
      await cleanupAll(() => backend?.cleanup(), () => base?.stop(), () => archive?.remove());
    });

    const input = (over: Partial<BuildInput> & { dockerfile: string }): BuildInput => {
      const id = uniqueId();
      return {
        buildId: id,
        source: archive.source,
        imageName: `${backend.imageRegistry ?? backend.registry}/contract/${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`,
        tags: [id],
        buildArgs: {},
        cacheScope: "contract/tests",
        untrusted: false,
        registryAuth: backend.registryAuth ?? null,
        noCache: true,
        timeoutSeconds: 300,
        secrets: [],
        runtime: null,
        baseImageDigest: null,
        signal: new AbortController().signal,
        ...over,
      };
    };

    test("success: the registry's digest, a runnable image, provenance, and the given Dockerfile wins", { timeout }, async () => {
      const marker = uniqueId();
      const i = input({
        dockerfile: `FROM ${from}\nCOPY hello.txt /hello.txt\nRUN echo build-says-${marker} && printf 'contract-ok-${marker}\\n' > /out.txt && cat /hello.txt >> /out.txt\nCMD ["cat", "/out.txt"]\n`,
        tags: [`t-${marker}`, `latest-${marker}`],
      });
      const o = await driveBuild(backend.builder, i);
      assert.equal(o.error, null, `the build failed: ${describeError(o.error)}\n${tailText(o.lines)}`);
      const r = o.result!;
      assert.match(r.digest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(r.imageRef, `${i.imageName}@${r.digest}`);
      assert.deepEqual(r.tags, i.tags);
      const repo = i.imageName.slice(i.imageName.indexOf("/") + 1);
      for (const tag of i.tags) assert.equal(await registryDigest(backend.registry, repo, tag, backend.registryAuth), r.digest, `skopeo inspect of :${tag} must agree with the build's digest`);
      assert.ok(r.sizeBytes === null || r.sizeBytes > 0, "size is positive when known");
      assert.equal(r.provenance.sourceHash, archive.source.sha256);
      assert.equal(hex(r.provenance.lockfileHashes["package-lock.json"]), archive.lockfileSha256);
      assert.ok(r.provenance.builderVersion, "the builder names its version");
      assert.ok(o.lines.some((l) => l.text.includes(`build-says-${marker}`)), "the RUN step's output is in the logs");
      const out = await runImageOutput(`${backend.registry}/${repo}@${r.digest}`, { auth: backend.registryAuth });
      assert.equal(out, `contract-ok-${marker}\nhello from the contract fixture\n`);
    });

    test("a failing RUN is the user's error, and its lines are in the logs", { timeout }, async () => {
      const marker = uniqueId();
      const o = await driveBuild(backend.builder, input({
        dockerfile: `FROM ${from}\nRUN echo fine-${marker}\nRUN echo about-to-fail-${marker} && echo "why-it-failed-${marker}" >&2 && exit 7\nRUN echo never-${marker}\n`,
      }));
      assert.equal(o.result, null, "the build must fail");
      assert.ok(isMicroshipError(o.error), `a typed error, got ${describeError(o.error)}`);
      assert.equal(o.error.kind, "user", describeError(o.error));
      const texts = o.lines.map((l) => l.text);
      assert.ok(texts.some((t) => t.includes(`about-to-fail-${marker}`)) && texts.some((t) => t.includes(`why-it-failed-${marker}`)), tailText(o.lines));
      assert.ok(!texts.some((t) => t === `never-${marker}`), "no step runs after the failing one");
    });

    test("a timeout stops the build within 10 s of its deadline and leaves no process", { timeout }, async () => {
      const marker = uniqueId();
      const i = input({ dockerfile: `FROM ${from}\nRUN echo sleeping-${marker} && sleep 600\n`, timeoutSeconds: 3 });
      const t0 = Date.now();
      const o = await driveBuild(backend.builder, i);
      assert.ok(isMicroshipError(o.error) && o.error.kind === "timeout", `a timeout error, got ${describeError(o.error)}`);
      assert.ok(o.settledAt - t0 < (3 + 10) * 1000 + (options.deadlineSlackMs ?? 0), `settled ${o.settledAt - t0} ms after the start`);
      assert.deepEqual(await leftoverProcesses([marker, i.buildId]), [], "no process of the build is left");
    });

    test("a cancel through the AbortSignal stops the build within 10 s and leaves no process", { timeout }, async () => {
      const marker = uniqueId();
      const controller = new AbortController();
      const i = input({ dockerfile: `FROM ${from}\nRUN echo started-${marker} && sleep 600\n`, signal: controller.signal });
      let abortedAt = 0;
      const abort = () => {
        if (abortedAt === 0) {
          abortedAt = Date.now();
          controller.abort();
        }
      };
      // Abort once the step is running; backends that send logs late get a fixed delay instead.
      const fallback = setTimeout(abort, 20_000);
      const o = await driveBuild(backend.builder, i, (l) => l.text === `started-${marker}` && setTimeout(abort, 500));
      clearTimeout(fallback);
      assert.ok(isMicroshipError(o.error) && o.error.kind === "cancelled", `a cancelled error, got ${describeError(o.error)}`);
      assert.ok(o.settledAt - abortedAt < 10_000, `settled ${o.settledAt - abortedAt} ms after the abort`);
      assert.deepEqual(await leftoverProcesses([marker, i.buildId]), [], "no process of the build is left");
    });

    test("a secret, or the push password, that the build prints is masked in the logs and in the error", { timeout }, async () => {
      const marker = uniqueId();
      const secret = `contract-secret-${marker}`;
      // Only a password the shell can quote as it is (the embedded registry's are hex).
      const password = /^[\w.~+/=-]+$/.test(backend.registryAuth?.password ?? "") ? backend.registryAuth!.password : null;
      // Printed in two halves, so the value appears whole only in the step's output, never in its STEP line.
      const printf = (label: string, value: string) => `RUN printf '${label}-%s%s-end\\n' '${value.slice(0, 6)}' '${value.slice(6)}'\n`;
      const o = await driveBuild(backend.builder, input({
        dockerfile: `FROM ${from}\n${printf("leak", secret)}${password ? printf("pw", password) : ""}RUN echo "fail-${secret}" && exit 5\n`,
        secrets: [{ id: "contract_secret", value: secret }],
      }));
      assert.ok(isMicroshipError(o.error) && o.error.kind === "user", `a user error, got ${describeError(o.error)}\n${tailText(o.lines)}`);
      const texts = o.lines.map((l) => l.text);
      assert.ok(texts.includes("leak-***-end"), `the printed secret is in the log, masked:\n${tailText(o.lines)}`);
      if (password) assert.ok(texts.includes("pw-***-end"), `the printed password is in the log, masked:\n${tailText(o.lines)}`);
      for (const value of [secret, ...(password ? [password] : [])]) {
        assert.ok(!texts.some((t) => t.includes(value)), "no line shows the value");
        assert.ok(![o.error.message, o.error.title, o.error.hint].some((t) => t?.includes(value)), `the error does not show it: ${describeError(o.error)}`);
      }
      assert.match(o.error.message, /fail-\*\*\*/, "the error names the failing step, masked");
    });

    // The three log cases read one build (a boot each is most of a microVM build's time): its
    // steps print the huge log, then the bad bytes, then the escapes, and each test checks its own.
    let logBuild: Promise<{ o: BuildOutcome; marker: string }> | undefined;
    const logCases = () => (logBuild ??= (async () => {
      const marker = uniqueId();
      const o = await driveBuild(backend.builder, input({
        dockerfile: `FROM ${from}\nRUN echo ${marker} >/dev/null && seq 1 100000 | sed 's/^/line-/'\n` +
          `RUN printf 'bad-\\377\\376-bytes-${marker}\\n'\n` +
          `RUN printf '\\033[1;31mred-${marker}\\033[0m and \\033]0;title\\007plain\\n'\n`,
      }));
      return { o, marker };
    })());

    test("a huge log: 100,000 lines arrive in order, none lost", { timeout }, async () => {
      const { o } = await logCases();
      assert.equal(o.error, null, describeError(o.error));
      const numbers = o.lines.map((l) => /^line-(\d+)$/.exec(l.text)?.[1]).filter((n) => n !== undefined).map(Number);
      assert.equal(numbers.length, 100_000, "every line arrives once");
      for (let k = 0; k < numbers.length; k++) if (numbers[k] !== k + 1) assert.fail(`line ${k + 1} arrived as line-${numbers[k]}`);
    });

    test("non-UTF-8 bytes become U+FFFD", { timeout }, async () => {
      const { o, marker } = await logCases();
      assert.equal(o.error, null, describeError(o.error));
      const line = o.lines.find((l) => l.text.startsWith("bad-") && l.text.endsWith(`-bytes-${marker}`));
      assert.ok(line, tailText(o.lines));
      assert.equal(line.text, `bad-\uFFFD\uFFFD-bytes-${marker}`);
    });

    test("ANSI escapes are removed", { timeout }, async () => {
      const { o, marker } = await logCases();
      assert.equal(o.error, null, describeError(o.error));
      const line = o.lines.find((l) => l.text.includes(`red-${marker}`) && !l.text.includes("printf"));
      assert.ok(line, tailText(o.lines));
      assert.equal(line.text, `red-${marker} and plain`);
      assert.ok(!o.lines.some((l) => l.text.includes("\u001b")), "no escape character reaches the logs");
    });
  });
}


function hex(v: string | undefined): string | undefined {
  return v?.replace(/^sha256:/, "");
}

function describeError(err: unknown): string {
  if (err === null) return "no error";
  return isMicroshipError(err) ? `${err.kind}: ${err.message}` : String(err);
}

function tailText(lines: LogLine[]): string {
  return lines.slice(-30).map((l) => `  ${l.stream}: ${l.text}`).join("\n");
}
