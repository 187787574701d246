import { describe, before, after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { c as tarCreate } from "tar";
import type { BuildInput, LogLine, SourceArchive } from "../../src/core/builder.ts";
import { MicroVmBuilder } from "../../src/builder/microvm/microvm-builder.ts";
import { isMicroshipError } from "../../src/core/errors.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../src/registry/embedded-registry.ts";
import { CACHE, ensureBaseImages, type BaseImages } from "../helpers/base-images.ts";
import { cleanupAll } from "../helpers/cleanup.ts";
import { driveBuild } from "../helpers/drive-build.ts";
import { quietLog } from "../helpers/pipeline-doubles.ts";
import { registryDigest, uniqueId } from "../helpers/contract-probes.ts";

/**
 * A hostile build in a real microVM (TCG here): its RUN steps try the build host's loopback
 * services, the cloud metadata address and a private address, directly and through the proxy the
 * guest is given, while the same build must still pull its base image and push its result.
 */
const TIMEOUT = 900_000;
const MARKER = `loopback-secret-${uniqueId()}`;

describe("the builder VM's network and QEMU's privileges", { timeout: TIMEOUT * 3 }, () => {
  let base: BaseImages;
  let registry: EmbeddedRegistry;
  let builder: MicroVmBuilder;
  let dir: string;
  let source: SourceArchive;
  let service: Server;
  let servicePort: number;
  let serviceHits = 0;
  const serviceSockets = new Set<import("node:net").Socket>();
  const vmPids = new Map<string, number>();
  const vmProcess = new Map<string, { uid: string; cmdline: string[] }>();

  before(async () => {
    base = await ensureBaseImages();
    dir = await mkdtemp(join(tmpdir(), "ms-microvm-net-"));
    registry = await startEmbeddedRegistry({ dataDir: join(dir, "registry"), log: quietLog });
    // A service on the host's loopback, as the app's own port or a database would be.
    service = createServer((s) => {
      serviceHits++;
      serviceSockets.add(s);
      s.on("close", () => serviceSockets.delete(s));
      s.end(`HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n${MARKER}\n`);
    });
    await new Promise<void>((ok) => service.listen(0, "127.0.0.1", ok));
    servicePort = (service.address() as { port: number }).port;
    builder = new MicroVmBuilder({
      dataDir: join(CACHE, "microvm"),
      log: quietLog,
      insecureRegistries: [base.registry],
      egressAllow: "",
      imageProgress: (l) => process.stderr.write(`${l}\n`),
      onVmStart: (pid, id) => {
        vmPids.set(id, pid);
        // Read once QEMU has dropped its privileges (-runas happens just before the guest starts).
        setTimeout(() => {
          try {
            const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "?";
            vmProcess.set(id, { uid, cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0") });
          } catch {
            // The VM already ended: the assertion below says so.
          }
        }, 3_000);
      },
    });
    await builder.prepare();
    source = await tinySource(dir);
  }, { timeout: TIMEOUT });

  after(async () => {
    await cleanupAll(
      () => builder?.close(),
      () => registry?.stop(),
      () => base?.stop(),
      () => new Promise<void>((ok) => {
        for (const s of serviceSockets) s.destroy();
        if (service) service.close(() => ok());
        else ok();
      }),
      () => dir && rm(dir, { recursive: true, force: true }),
    );
  });

  const input = (dockerfile: string): BuildInput => {
    const id = uniqueId();
    return {
      buildId: id, source, dockerfile, imageName: `${registry.address}/tests/microvm-net`, tags: [id],
      buildArgs: {}, cacheScope: `tests/microvm-net-${id}`, untrusted: false, registryAuth: registry.auth, noCache: true, timeoutSeconds: 300,
      secrets: [], runtime: null, baseImageDigest: null, signal: new AbortController().signal,
    };
  };

  test("RUN steps reach no host loopback service, no metadata service and no private address, by any route; the build still pulls and pushes", { timeout: TIMEOUT }, async () => {
    // Raw requests with nc: the busybox image's static wget crashes when it is given a proxy.
    const direct = (host: string, port: number, path = "/") => `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${host} ${port}`;
    const viaProxy = (request: string) => `printf '${request}\\r\\n\\r\\n' | nc -w 5 10.0.2.101 3128`;
    const tries: [string, string][] = [
      // Straight out of the guest, as the old network allowed: slirp's host address is the host's loopback.
      ["host-direct", direct("10.0.2.2", servicePort)],
      ["metadata-direct", direct("169.254.169.254", 80, "/latest/meta-data/")],
      ["private-direct", direct("192.168.1.1", 80)],
      // The registry forwards' address on another port is not a way in either.
      ["forward-other-port", direct("10.0.2.100", servicePort)],
      // Through the proxy the guest is given, by every name for the host.
      ["host-proxied", viaProxy(`GET http://10.0.2.2:${servicePort}/ HTTP/1.0`)],
      ["loopback-proxied", viaProxy(`CONNECT 127.0.0.1:${servicePort} HTTP/1.1`)],
      ["localhost-proxied", viaProxy(`CONNECT localhost:${servicePort} HTTP/1.1`)],
      ["mapped-proxied", viaProxy(`CONNECT [::ffff:127.0.0.1]:${servicePort} HTTP/1.1`)],
      ["metadata-proxied", viaProxy("GET http://169.254.169.254/latest/meta-data/ HTTP/1.0")],
      ["private-proxied", viaProxy("CONNECT 10.1.2.3:443 HTTP/1.1")],
    ];
    // One RUN step: each step costs seconds under TCG.
    const runs = `RUN ${tries.map(([name, cmd]) => `if ${cmd} > /tmp/out 2>&1 && grep -q ${MARKER} /tmp/out; then echo REACHED-${name}; else echo blocked-${name}; fi`).join("; ")}`;
    const r = await driveBuild(builder, input(`FROM ${base.mirror}/busybox:latest\n${runs}\nCMD ["true"]\n`));
    assert.equal(r.error, null, `${describeError(r.error)}\n${tail(r.lines)}`);
    for (const [name] of tries) {
      assert.ok(r.lines.some((l) => l.text === `blocked-${name}`), `${name} was not blocked:\n${tail(r.lines)}`);
      assert.ok(!r.lines.some((l) => l.text === `REACHED-${name}`), `${name} reached the host service`);
    }
    assert.equal(serviceHits, 0, "the loopback service saw a connection from the build");
    // The proxied tries reached the proxy, which refused each and said so in the build log.
    for (const refused of [`10.0.2.2:${servicePort}: .*private`, `127.0.0.1:${servicePort}: .*loopback`, `localhost:${servicePort}: .*loopback`, "169\\.254\\.169\\.254:80: .*link-local", "10\\.1\\.2\\.3:443: .*private"]) {
      assert.ok(r.lines.some((l) => l.stream === "system" && new RegExp(`^network: refused .*${refused}`).test(l.text)), `no refusal of ${refused} in the log:\n${tail(r.lines)}`);
    }
    assert.match(r.result!.digest, /^sha256:/);
    assert.equal(await registryDigest(registry.address, "tests/microvm-net", r.result!.tags[0]!, registry.auth), r.result!.digest, "the push still reached the registry");
  });

  test("a FROM line naming another service of the host's loopback is the user's error, before any VM starts", { timeout: TIMEOUT }, async () => {
    const i = input(`FROM 127.0.0.1:${servicePort}/library/busybox:latest\nRUN true\n`);
    const r = await driveBuild(builder, i);
    assert.ok(isMicroshipError(r.error) && r.error.kind === "user", describeError(r.error));
    assert.match(r.error.message, new RegExp(`Dockerfile pulls from 127\\.0\\.0\\.1:${servicePort}, on the build host's own loopback`));
    assert.equal(vmPids.has(i.buildId), false, "a VM was started");
    assert.equal(serviceHits, 0);
  });

  test("QEMU runs sandboxed and as an unprivileged user of its own", { timeout: TIMEOUT }, async () => {
    const ids = [input(`FROM ${base.mirror}/busybox:latest\nRUN sleep 4\n`), input(`FROM ${base.mirror}/busybox:latest\nRUN sleep 4\n`)];
    for (const i of ids) {
      const r = await driveBuild(builder, i);
      assert.equal(r.error, null, `${describeError(r.error)}\n${tail(r.lines)}`);
    }
    const seen = ids.map((i) => vmProcess.get(i.buildId));
    for (const p of seen) {
      assert.ok(p, "the QEMU process was not seen while it ran");
      assert.notEqual(p.uid, "0", "QEMU runs as root");
      assert.ok(p.cmdline.includes("-sandbox") && /^on,/.test(p.cmdline[p.cmdline.indexOf("-sandbox") + 1]!), p.cmdline.join(" "));
      assert.match(p.cmdline[p.cmdline.indexOf("-netdev") + 1]!, /restrict=on/);
    }
    assert.notEqual(seen[0]!.uid, seen[1]!.uid, "two builds' QEMUs share a uid");
  });
});

async function tinySource(dir: string): Promise<SourceArchive> {
  const app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(join(app, "hello.txt"), "hi\n");
  const path = join(dir, "source.tar.gz");
  await tarCreate({ gzip: true, cwd: app, file: path, portable: true }, ["hello.txt"]);
  return { open: () => createReadStream(path), path, sha256: createHash("sha256").update(readFileSync(path)).digest("hex"), sizeBytes: statSync(path).size, fileCount: 1 };
}

function describeError(err: unknown): string {
  if (err === null) return "no error";
  return isMicroshipError(err) ? `${err.kind}: ${err.message}` : String(err);
}

function tail(lines: LogLine[]): string {
  return lines.slice(-60).map((l) => `  ${l.stream}: ${l.text}`).join("\n");
}
