import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildahEnv, type BuildahEnv } from "../../src/builder/buildah/buildah-env.ts";
import { importRootfs } from "../../src/builder/buildah/import-rootfs.ts";
import { runBuildah } from "../../src/builder/buildah/buildah-command.ts";
import { startEmbeddedRegistry } from "../../src/registry/embedded-registry.ts";
import { manifestDigest } from "../../src/registry/registry-client.ts";
import { quietLog } from "./pipeline-doubles.ts";
import type { RegistryCredential } from "../../src/core/ports.ts";
import { withFileLock } from "./file-lock.ts";
import { RECIPES, log, type Recipe } from "./base-image-recipes.ts";

/**
 * Stand-ins for Docker Hub's `library/busybox:latest`, `library/node:24-slim`, `library/caddy:2-alpine` and
 * `library/python:3.11-slim`, which this machine can't pull. They are built once (debootstrap,
 * busybox-static, the real Node 24 binary of the npm `node` package, Debian's python3) into a
 * registry whose storage lives in the test cache; a warm start takes about a second.
 *
 *   const base = await ensureBaseImages();
 *   // FROM ${base.mirror}/busybox:latest, or MICROSHIP_BASE_IMAGE_MIRROR=base.mirror
 *   await base.stop();
 */
export const CACHE = resolve(process.env.MICROSHIP_TEST_CACHE ?? new URL("../../data/test-cache", import.meta.url).pathname);

export interface BaseImages {
  /** 127.0.0.1:PORT of the registry holding the stand-ins (plain HTTP). */
  registry: string;
  /** `<registry>/library`: FROM lines become <mirror>/node:24-slim. */
  mirror: string;
  stop(): Promise<void>;
}

export async function ensureBaseImages(): Promise<BaseImages> {
  mkdirSync(CACHE, { recursive: true });
  // A stand-in for Docker Hub: anyone pulls, only we push.
  const registry = await startEmbeddedRegistry({ dataDir: join(CACHE, "base-registry"), log: quietLog, anonymousPull: true });
  try {
    const mirror = `${registry.address}/library`;
    const stale = async () => {
      const out: Recipe[] = [];
      for (const r of RECIPES) if (!(await isCurrent(r, registry.address))) out.push(r);
      return out;
    };
    if ((await stale()).length > 0) {
      await withFileLock(join(CACHE, "base-images.lock"), async () => {
        // Another process may have built them while we waited for the lock.
        const missing = await stale();
        if (missing.length === 0) return;
        const env = buildahEnv({ dir: join(CACHE, "buildah"), insecureRegistries: [registry.address] });
        mkdirSync(env.env.TMPDIR!, { recursive: true });
        for (const r of missing) await build(r, env, mirror, registry.auth);
      });
    }
    return { registry: registry.address, mirror, stop: () => registry.stop() };
  } catch (err) {
    await registry.stop();
    throw err;
  }
}

function markerPath(r: Recipe): string {
  return join(CACHE, "base-images", r.ref.replace(":", "_"));
}

/** Built by this recipe version, and still in the registry under the digest we pushed. */
async function isCurrent(r: Recipe, address: string): Promise<boolean> {
  const marker = markerPath(r);
  if (!existsSync(marker)) return false;
  const [version, digest] = readFileSync(marker, "utf8").trim().split(" ");
  if (version !== r.version) return false;
  const [repo, tag] = r.ref.split(":");
  return (await manifestDigest(address, `library/${repo}`, tag!).catch(() => null)) === digest;
}

async function build(r: Recipe, env: BuildahEnv, mirror: string, auth: RegistryCredential): Promise<void> {
  const t0 = Date.now();
  log(`building ${mirror}/${r.ref}`);
  const image = r.make(CACHE);
  try {
    await importRootfs(env, image);
  } finally {
    if (image.dir) rmSync(image.dir, { recursive: true, force: true });
  }
  const digestFile = join(env.env.TMPDIR!, `digest-${process.pid}`);
  await runBuildah(env, ["push", "--signature-policy", env.policyPath, "-q", "--tls-verify=false", "--creds", `${auth.username}:${auth.password}`, "--format", "oci", "--digestfile", digestFile, image.name, `docker://${mirror}/${r.ref}`]);
  const digest = readFileSync(digestFile, "utf8").trim();
  rmSync(digestFile, { force: true });
  // The registry holds it now; local storage needn't.
  await runBuildah(env, ["rmi", image.name]).catch(() => undefined);
  mkdirSync(join(CACHE, "base-images"), { recursive: true });
  writeFileSync(markerPath(r), `${r.version} ${digest}\n`);
  log(`pushed ${mirror}/${r.ref} (${digest.slice(0, 19)}…) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
