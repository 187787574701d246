import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Writable } from "node:stream";
import { ensureBaseImages, CACHE, type BaseImages } from "../helpers/base-images.ts";
import { startHarness, OWNER, REPO, type Harness } from "../helpers/microship-harness.ts";
import { MicroVmBuilder } from "../../src/builder/microvm/microvm-builder.ts";
import { createDefaultParts } from "../../src/default-parts.ts";
import { loadEnv } from "../../src/config/env.ts";
import { createLogger } from "../../src/log/logger.ts";
import { registryDigest, uniqueId } from "../helpers/contract-probes.ts";
import { runImageOutput } from "../helpers/run-image-output.ts";
import { quietLog } from "../helpers/pipeline-doubles.ts";
import { cleanupAll } from "../helpers/cleanup.ts";

// A signed push built in a real microVM (TCG on this kind of host) and pushed to the app's
// embedded registry. The VM image is shared with the other microvm tests through the test cache.
let base: BaseImages;
let h: Harness;

before(async () => {
  base = await ensureBaseImages();
  const builder = new MicroVmBuilder({ dataDir: join(CACHE, "microvm"), log: quietLog, insecureRegistries: [base.registry], imageProgress: (l) => process.stderr.write(`${l}\n`) });
  await builder.prepare();
  h = await startHarness({ builder }, { MICROSHIP_BUILDER: "microvm", MICROSHIP_BUILD_TIMEOUT: "600" });
}, { timeout: 900_000 });

after(() => cleanupAll(() => h?.stop(), () => base?.stop()));

test("a signed push is built in a microVM: the check succeeds with the registry's digest, and the image runs", { timeout: 900_000 }, async () => {
  const marker = uniqueId();
  const sha = h.fake.commit({
    owner: OWNER, repo: REPO, branch: "vm",
    files: { Dockerfile: `FROM ${base.mirror}/busybox:latest\nCOPY hello.txt /hello.txt\nRUN echo built-in-a-vm-${marker}\nCMD ["cat", "/hello.txt"]\n`, "hello.txt": "hello from a microVM build\n" },
  });
  await h.send("push", h.pushPayload({ sha, branch: "vm" }));
  const run = await h.fake.waitFor(() => h.fake.checkRuns(OWNER, REPO).find((r) => r.head_sha === sha && r.status === "completed"), 600_000, "the build");
  assert.equal(run.conclusion, "success", `${run.output.summary}\n${run.output.text?.slice(-2000)}`);
  const digest = await registryDigest(h.app.registry, `${OWNER}/${REPO}`, sha, h.app.registryAuth);
  assert.ok(digest && run.output.summary?.includes(`${h.app.registry}/${OWNER}/${REPO}@${digest}`), run.output.summary ?? "");
  assert.match(run.output.summary ?? "", /QEMU microvm, (KVM|TCG)/, "the summary says which accelerator built it");
  assert.match(run.output.text ?? "", new RegExp(`built-in-a-vm-${marker}`));
  assert.equal(await runImageOutput(`${h.app.registry}/${OWNER}/${REPO}@${digest}`, { auth: h.app.registryAuth }), "hello from a microVM build\n");
});

test("with nothing set, the app builds with microvm and says so at start-up", async () => {
  let logged = "";
  const sink = new Writable({ write(c, _e, cb) { logged += c.toString(); cb(); } });
  const env = loadEnv({ MICROSHIP_DATA_DIR: join(CACHE, "default-parts"), MICROSHIP_REGISTRY: "registry.example.com/team" });
  assert.equal(env.MICROSHIP_BUILDER, "microvm");
  const parts = await createDefaultParts(env, createLogger("info", sink as never), {});
  try {
    assert.ok(parts.builder instanceof MicroVmBuilder);
    assert.match(logged, /builds run on: QEMU microvm, (KVM|TCG)/);
  } finally {
    await parts.close();
  }
});
