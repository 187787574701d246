import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import type { BuildInput } from "../../src/core/builder.ts";
import { manifestInfo } from "../../src/registry/registry-client.ts";
import { isMicroshipError } from "../../src/core/errors.ts";
import { useHostBuildWorld } from "../helpers/host-build-world.ts";
import { uniqueId } from "../helpers/contract-probes.ts";
import { driveBuild } from "../helpers/drive-build.ts";
import { registryCall } from "../helpers/registry-http.ts";

// Hole 8 (one buildah storage and one TMPDIR for every scope) and item 16's /proc point, on the
// real host builder: real buildah, real storage on disk, a real registry behind its front.

const w = useHostBuildWorld("ms-sec-host-");

function input(scope: string, dockerfile: string, over: Partial<BuildInput> = {}): BuildInput {
  const id = uniqueId();
  return {
    buildId: id, source: w.archive.source, dockerfile, imageName: `${w.registry.address}/${scope}`, tags: [id], buildArgs: {},
    cacheScope: scope, untrusted: false, registryAuth: w.registry.credentials.issue({ buildId: id, scope, tags: [id], pull: true, ttlSeconds: 600 }),
    noCache: false, timeoutSeconds: 180, secrets: [], runtime: null, baseImageDigest: null, signal: new AbortController().signal, ...over,
  };
}

const text = (lines: { text: string }[]) => lines.map((l) => l.text).join("\n");

test("one scope can't build FROM another scope's local image, by its local tag or by its id, nor read its cache mounts", { timeout: 300_000 }, async () => {
  const secret = `TOPSECRET-${uniqueId()}`;
  const a = await driveBuild(w.builder, input("octo-org/private", [
    `FROM ${w.base.mirror}/busybox:latest`,
    `RUN echo ${secret} > /secret.txt`,
    `RUN --mount=type=cache,target=/cache,id=shared echo ${secret} > /cache/leak`,
    "",
  ].join("\n")));
  assert.equal(a.error, null, text(a.lines));
  // The local image id is the config's digest; an attacker learns it from any pull of the image.
  const info = await registryCall(w.registry.address, "GET", `/v2/octo-org/private/manifests/${a.result!.digest}`, w.registry.auth, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
  const imageId = (JSON.parse(info.text) as { config: { digest: string } }).config.digest.replace(/^sha256:/, "");
  assert.ok((await manifestInfo(w.registry.address, "octo-org/private", a.result!.digest, { auth: w.registry.auth }))?.digest);

  for (const from of ["localhost/microship/octo-org-private:latest", imageId, `sha256:${imageId}`]) {
    const b = await driveBuild(w.builder, input("mallory/app", `FROM ${from}\nRUN cat /secret.txt\n`));
    assert.ok(!text(b.lines).includes(secret), `FROM ${from} read the other scope's file`);
    assert.ok(b.error, `FROM ${from} must fail: the image is not in this scope's storage`);
  }
  const c = await driveBuild(w.builder, input("mallory/app", `FROM ${w.base.mirror}/busybox:latest\nRUN --mount=type=cache,target=/cache,id=shared cat /cache/leak 2>/dev/null || echo empty-cache\n`, { noCache: true }));
  assert.equal(c.error, null, text(c.lines));
  assert.ok(!text(c.lines).includes(secret), "the cache mount of another scope was readable");
  assert.match(text(c.lines), /empty-cache/);
});

test("the host builder refuses a fork's build before running anything, with a message that says why", async () => {
  const marker = uniqueId();
  const r = await driveBuild(w.builder, input("octo-org/shop/pr-7", `FROM ${w.base.mirror}/busybox:latest\nRUN echo ran-${marker}\n`, { untrusted: true }));
  assert.ok(isMicroshipError(r.error), String(r.error));
  assert.equal(r.error.kind, "user");
  assert.match(r.error.message, /the host builder runs builds without VM isolation, so it does not build fork PRs: use microvm or hypeman/);
  assert.ok(!text(r.lines).includes(`ran-${marker}`));
  assert.ok(!text(r.lines).includes("buildah bud"), "nothing was started");
});

test("a RUN step can't see the host's processes in /proc, let alone read a token in their environment", { timeout: 300_000 }, async () => {
  const token = `ghs_${uniqueId()}`;
  // Stands in for git during checkout, with the installation token in its environment.
  const victim: ChildProcess = spawn("sleep", ["600"], { env: { PATH: process.env.PATH, GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${token}` }, stdio: "ignore" });
  try {
    const probe = [
      `FROM ${w.base.mirror}/busybox:latest`,
      "ARG VICTIM",
      "ARG T1",
      "ARG T2",
      // The token is joined into a file, so no process of the probe holds it in argv or env.
      'RUN printf %s%s "$T1" "$T2" > /tmp/pattern; if [ -e "/proc/$VICTIM" ]; then echo "victim" "visible"; fi; ' +
        "echo \"pids-seen=$(ls /proc | grep -c '^[0-9]')\"; " +
        "echo \"token-hits=$(cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -c -F -f /tmp/pattern)\"",
      "",
    ].join("\n");
    const r = await driveBuild(w.builder, input("octo-org/shop", probe, { buildArgs: { VICTIM: String(victim.pid), T1: token.slice(0, 12), T2: token.slice(12) }, noCache: true }));
    assert.equal(r.error, null, text(r.lines));
    const out = text(r.lines);
    // The words are split in the command, so only the command's output can join them.
    assert.ok(!out.includes("victim visible"), "the RUN step saw a host process");
    assert.match(out, /token-hits=0/);
    const seen = Number(/pids-seen=(\d+)/.exec(out)?.[1]);
    assert.ok(seen > 0 && seen < 20, `a RUN step sees only its own namespace's processes, saw ${seen}`);
  } finally {
    victim.kill("SIGKILL");
  }
});
