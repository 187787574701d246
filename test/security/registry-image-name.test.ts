import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseRepoConfig } from "../../src/core/repo-config.ts";
import { planApps } from "../../src/detect/provider-list.ts";
import { RegistryImageNamer } from "../../src/registry/image-name.ts";
import { RegistryCredentialIssuer } from "../../src/registry/registry-credentials.ts";
import { decideAccess } from "../../src/registry/registry-access.ts";
import { buildRequest } from "../helpers/build-requests.ts";

// Hole 7: `image:` in .github/microship.yml named any path in the registry, so octo-org/shop
// could push other-org/shop:main. Each template below is what a hostile config could write.
const HOSTILE = [
  "../../other-org/shop",
  "/other-org/shop",
  "other-org/shop",
  "{owner}/../other-org/shop",
  "{owner}/{repo}/../../other-org/shop",
  "{owner}-evil/{repo}",
  "{repo}-evil",
  "..",
  "../{repo}",
  "registry.example.com:5000/other-org/shop",
  "octo-org/shop-evil",
  "%2e%2e/other-org/shop",
  "./../other-org",
  "\\\\other-org\\shop",
  "other-org/shop:main",
  "other-org/shop@sha256:" + "0".repeat(64),
];

const REGISTRY = "127.0.0.1:5000";

test("whatever `image:` says, the image lands under {owner}/{repo}, where the build's own credential may push it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ms-sec-image-"));
  try {
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "shop", version: "1.0.0", scripts: { start: "node index.js" } }));
    await writeFile(join(dir, "index.js"), "console.log('hi')\n");
    await mkdir(join(dir, ".github"));
    const namer = new RegistryImageNamer(REGISTRY);
    const issuer = new RegistryCredentialIssuer();
    for (const image of HOSTILE) {
      const parsed = parseRepoConfig(`image: ${JSON.stringify(image)}\n`);
      assert.ok(parsed.ok, `${image}: ${!parsed.ok && parsed.error.message}`);
      const [planned] = await planApps(dir, parsed.config, { baseImageMirror: null });
      assert.ok(planned?.ok, image);
      for (const request of [
        buildRequest({ owner: "octo-org", repo: "shop", branch: "main", trigger: "push" }),
        buildRequest({ owner: "octo-org", repo: "shop", trigger: "pull_request", pr: { number: 7, fork: true, headRepo: "mallory/shop", headRef: "x", baseRef: "main" } }),
      ]) {
        const target = namer.target(request, planned.plan);
        assert.ok(target.imageName.startsWith(`${REGISTRY}/octo-org/shop/`) || target.imageName === `${REGISTRY}/octo-org/shop`, `${image} gave ${target.imageName}`);
        const path = target.imageName.slice(REGISTRY.length + 1);
        assert.doesNotMatch(path, /(^|\/)\.\.?(\/|$)|[^a-z0-9._\/-]/, `${image} gave ${path}`);
        // The credential the pipeline hands this build may write exactly there, and only its tags.
        const cred = issuer.forBuild("b1", request, target, 600);
        const grant = issuer.verify(`Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString("base64")}`);
        for (const tag of target.tags) assert.ok(decideAccess({ method: "PUT", path: `/v2/${path}/manifests/${tag}`, query: "", grant }).allow, `${path}:${tag}`);
        assert.equal(decideAccess({ method: "PUT", path: `/v2/other-org/shop/manifests/${target.tags[0]}`, query: "", grant }).allow, false);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
