import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkBuilderImage, REQUIREMENTS } from "./seed-requirements.ts";

const IMAGES = new URL("../../../images/", import.meta.url).pathname;
const SCRIPT = new URL("../../../scripts/build-builder-images.sh", import.meta.url).pathname;
// images/microvm is our own QEMU builder VM, not a Hypeman builder image.
const builderImages = readdirSync(IMAGES, { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== "microvm" && existsSync(join(IMAGES, e.name, "Dockerfile")))
  .map((e) => e.name)
  .sort();

test("the seed's images are all here, plus nodejs24", () => {
  assert.deepEqual(builderImages, ["base", "nodejs20", "nodejs24", "python312"]);
});

for (const name of builderImages) {
  test(`images/${name} has every component and variable a Hypeman builder image needs`, () => {
    const problems = checkBuilderImage(readFileSync(join(IMAGES, name, "Dockerfile"), "utf8"));
    assert.deepEqual(problems, [], problems.map((p) => `images/${name}/Dockerfile lacks ${p.requirement}: ${p.hint}`).join("\n"));
  });
}

const good = readFileSync(join(IMAGES, "base", "Dockerfile"), "utf8");

test("an image that copies no runc fails with the seed's fix", () => {
  const problems = checkBuilderImage(good.replace(/^COPY --from=buildkit \/usr\/bin\/buildkit-runc \/usr\/bin\/runc\n/m, ""));
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.hint, /copy buildkit-runc to \/usr\/bin\/runc/);
});

test("each requirement, removed alone, is caught", () => {
  const breakages: Array<[string, string]> = [
    ["FROM moby/buildkit:rootless AS buildkit", "FROM alpine:3.20 AS buildkit"],
    ["COPY --from=buildkit /usr/bin/buildctl /usr/bin/buildctl\n", ""],
    ["COPY --from=buildkit /usr/bin/buildctl-daemonless.sh /usr/bin/buildctl-daemonless.sh\n", ""],
    ["COPY --from=buildkit /usr/bin/buildkitd /usr/bin/buildkitd", "COPY --from=buildkit /usr/bin/buildkitd /usr/local/bin/buildkitd"],
    ["/usr/bin/buildkit-runc /usr/bin/runc", "/usr/bin/buildkit-runc /usr/bin/buildkit-runc"],
    ["COPY builder-agent /usr/bin/builder-agent\n", ""],
    ["    fuse-overlayfs \\\n", ""],
    ["adduser -D -u 1000 builder", "adduser -D builder"],
    ["ENV HOME=/home/builder\n", ""],
    ["ENV XDG_RUNTIME_DIR=/home/builder/.local/share", "ENV XDG_RUNTIME_DIR=/run/user/1000"],
    ['ENV BUILDKITD_FLAGS=""', 'ENV BUILDKITD_FLAGS="--oci-worker-no-process-sandbox"'],
    ["USER builder", "USER root"],
    ['ENTRYPOINT ["/usr/bin/builder-agent"]', 'ENTRYPOINT ["/bin/sh"]'],
  ];
  assert.equal(breakages.length, REQUIREMENTS.length, "one breakage per requirement");
  breakages.forEach(([from, to], i) => {
    assert.ok(good.includes(from), `the base Dockerfile has ${JSON.stringify(from)}`);
    const problems = checkBuilderImage(good.replace(from, to)).map((p) => p.requirement);
    assert.equal(problems[0], REQUIREMENTS[i]!.requirement, `${JSON.stringify(from)} → ${JSON.stringify(to)}: ${JSON.stringify(problems)}`);
    // Without the BuildKit stage nothing can be copied from it; every other breakage is alone.
    if (i > 0) assert.equal(problems.length, 1, JSON.stringify(problems));
  });
});

test("scripts/build-builder-images.sh parses, and its dry run prints the build, the push and the BUILDER_IMAGE line", () => {
  execFileSync("bash", ["-n", SCRIPT]);
  const out = execFileSync("bash", [SCRIPT, "--dry-run", "--registry", "registry.example.com/team", "nodejs24"], { encoding: "utf8" });
  assert.match(out, /--output type=oci|oci-archive:/);
  assert.match(out, /(crane push|skopeo copy) .*registry\.example\.com\/team\/builder-nodejs24:latest/);
  assert.match(out, /^BUILDER_IMAGE=registry\.example\.com\/team\/builder-nodejs24:latest$/m);
});
