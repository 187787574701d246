import { test } from "node:test";
import assert from "node:assert/strict";
import type { BuildInput } from "../../src/core/builder.ts";
import { RegistryImageNamer } from "../../src/registry/image-name.ts";
import { isMicroshipError } from "../../src/core/errors.ts";
import { registryDigest, uniqueId } from "../helpers/contract-probes.ts";
import { useHostBuildWorld } from "../helpers/host-build-world.ts";
import { driveBuild } from "../helpers/drive-build.ts";
import { buildRequest } from "../helpers/build-requests.ts";
import type { BuildPlan } from "../../src/core/types.ts";

// Hole 7 on the real push path: buildah pushes through the registry's front with the credential
// the pipeline issues for the build (from an auth file), and that credential reaches nothing else.

const w = useHostBuildWorld("ms-sec-push-");

const DOCKERFILE = () => `FROM ${w.base.mirror}/busybox:latest\nRUN echo ${uniqueId()} > /built\n`;

/** The build the pipeline would run for a push of octo-org/shop's branch, with its issued credential. */
function pipelineInput(over: Partial<BuildInput> = {}): BuildInput {
  const request = buildRequest({ owner: "octo-org", repo: "shop", branch: `b-${uniqueId()}`, sha: uniqueId().padEnd(40, "0") });
  const target = new RegistryImageNamer(w.registry.address).target(request, { app: null, imageTemplate: null } as BuildPlan);
  const id = uniqueId();
  return {
    buildId: id, source: w.archive.source, dockerfile: DOCKERFILE(), imageName: target.imageName, tags: target.tags, buildArgs: {},
    cacheScope: "octo-org/shop", untrusted: false, registryAuth: w.registry.credentials.forBuild(id, request, target, 300),
    noCache: true, timeoutSeconds: 300, secrets: [], runtime: null, baseImageDigest: null, signal: new AbortController().signal, ...over,
  };
}

test("buildah pushes through the front with the build's own credential, from an auth file, never argv or the log", { timeout: 300_000 }, async () => {
  const i = pipelineInput();
  const r = await driveBuild(w.builder, i);
  assert.equal(r.error, null, r.lines.map((l) => l.text).join("\n"));
  for (const tag of i.tags) assert.equal(await registryDigest(w.registry.address, "octo-org/shop", tag, w.registry.auth), r.result!.digest);
  assert.ok(!r.lines.some((l) => l.text.includes(i.registryAuth!.password)), "the password reached the log");
  assert.ok(r.result!.sizeBytes && r.result!.sizeBytes > 0, "skopeo read the size back through the front with the build's credential");
});

test("the same credential can't push elsewhere: another owner, a look-alike repo, or a tag it wasn't issued", { timeout: 300_000 }, async () => {
  for (const over of [
    { imageName: `${w.registry.address}/other-org/shop` },
    { imageName: `${w.registry.address}/octo-org/shop-evil` },
  ] as Partial<BuildInput>[]) {
    const i = pipelineInput();
    const r = await driveBuild(w.builder, { ...i, ...over });
    assert.ok(isMicroshipError(r.error) && r.error.title === "Push failed", `${over.imageName}: ${String(r.error)}`);
  }
  const i = pipelineInput();
  const r = await driveBuild(w.builder, { ...i, tags: [...i.tags, "main"] });
  assert.ok(isMicroshipError(r.error) && r.error.title === "Push failed", String(r.error));
  await assert.rejects(registryDigest(w.registry.address, "octo-org/shop", "main", w.registry.auth), "no :main was written");
  // And without any credential, buildah gets nowhere.
  const anon = await driveBuild(w.builder, { ...pipelineInput(), registryAuth: null });
  assert.ok(isMicroshipError(anon.error) && anon.error.title === "Push failed", String(anon.error));
});
