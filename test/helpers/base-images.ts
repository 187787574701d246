import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync, copyFileSync, chmodSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildahEnv } from "../../src/builder/buildah/buildah-env.ts";
import { startEmbeddedRegistry, type EmbeddedRegistry } from "../../src/registry/embedded-registry.ts";
import { quietLog } from "./pipeline-doubles.ts";

/**
 * Stand-ins for Docker Hub's node:24-slim, built from Debian packages and the real Node 24
 * binary of the npm `node` package, because this machine can't pull from Docker Hub. Built once
 * into a registry whose storage lives in the test cache; a warm start takes a second.
 */
export const CACHE = resolve(process.env.MICROSHIP_TEST_CACHE ?? new URL("../../data/test-cache", import.meta.url).pathname);
const RECIPE = "v2";
const HOST_CA = "/etc/ssl/certs/ca-certificates.crt";
const DEBIAN_MIRROR = process.env.MICROSHIP_TEST_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

export interface BaseImages {
  registry: string;
  /** Put in MICROSHIP_BASE_IMAGE_MIRROR: FROM lines become <mirror>/node:24-slim. */
  mirror: string;
  stop(): Promise<void>;
}

function log(msg: string): void {
  process.stderr.write(`[base-images] ${msg}\n`);
}

export async function ensureBaseImages(): Promise<BaseImages> {
  mkdirSync(CACHE, { recursive: true });
  const registry: EmbeddedRegistry = await startEmbeddedRegistry({ dataDir: join(CACHE, "base-registry"), log: quietLog });
  const mirror = `${registry.address}/library`;
  const has = async (ref: string) => (await fetch(`http://${registry.address}/v2/library/${ref.replace(":", "/manifests/")}`, { method: "HEAD", headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).status === 200;
  // The marker names the recipe: change RECIPE and the stand-ins are built again.
  const marker = join(CACHE, `node-24-slim.${RECIPE}`);
  if (!existsSync(marker) || !(await has("node:24-slim"))) {
    buildNodeImage(`${mirror}/node:24-slim`);
    writeFileSync(marker, new Date().toISOString());
  }
  return { registry: registry.address, mirror, stop: () => registry.stop() };
}

/** A debootstrap minbase of bookworm, as a tar with numeric owners, cached. */
function debianRootfsTar(): string {
  const tarPath = join(CACHE, "bookworm-minbase.tar");
  if (existsSync(tarPath)) return tarPath;
  const dir = mkdtempSync(join(tmpdir(), "ms-rootfs-"));
  try {
    log("debootstrap --variant=minbase bookworm (about 30 s, once)");
    execFileSync("debootstrap", ["--variant=minbase", "bookworm", dir, DEBIAN_MIRROR], { stdio: ["ignore", "ignore", "inherit"] });
    execFileSync("sh", ["-c", `rm -rf "${dir}"/var/cache/apt/archives/*.deb "${dir}"/var/lib/apt/lists/* "${dir}"/var/log/* && : > "${dir}/etc/resolv.conf" && : > "${dir}/etc/hostname"`]);
    execFileSync("tar", ["-C", dir, "--numeric-owner", "--exclude=./dev/*", "-cf", `${tarPath}.partial`, "."]);
    execFileSync("mv", [`${tarPath}.partial`, tarPath]);
    return tarPath;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function buildNodeImage(ref: string): void {
  const rootfs = debianRootfsTar();
  const b = buildahEnv({ dir: join(CACHE, "buildah"), insecureRegistries: [ref.split("/")[0]!] });
  mkdirSync(b.env.TMPDIR!, { recursive: true });
  const env = { ...process.env, ...b.env };
  const buildah = (args: string[]) => execFileSync("buildah", [...b.globalArgs, ...args], { env, encoding: "utf8" }).trim();
  log(`building ${ref}`);
  const ctr = buildah(["from", "--signature-policy", b.policyPath, "scratch"]);
  try {
    const mnt = buildah(["mount", ctr]);
    // A tar pipe keeps owners and modes; `buildah copy` would chown everything to root.
    execFileSync("tar", ["-C", mnt, "--numeric-owner", "-xpf", rootfs]);
    const nodeBin = new URL("../../node_modules/node/bin/node", import.meta.url).pathname;
    copyFileSync(nodeBin, join(mnt, "usr/local/bin/node"));
    chmodSync(join(mnt, "usr/local/bin/node"), 0o755);
    const npmDir = mkdtempSync(join(tmpdir(), "ms-npm-"));
    try {
      execFileSync("npm", ["pack", "npm@10", "--silent"], { cwd: npmDir, stdio: ["ignore", "ignore", "inherit"] });
      mkdirSync(join(mnt, "usr/local/lib/node_modules/npm"), { recursive: true });
      execFileSync("sh", ["-c", `tar -xzf npm-*.tgz -C "${join(mnt, "usr/local/lib/node_modules/npm")}" --strip-components=1`], { cwd: npmDir });
    } finally {
      rmSync(npmDir, { recursive: true, force: true });
    }
    symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(mnt, "usr/local/bin/npm"));
    symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", join(mnt, "usr/local/bin/npx"));
    // The official image has a `node` user with uid 1000.
    appendFileSync(join(mnt, "etc/passwd"), "node:x:1000:1000::/home/node:/bin/sh\n");
    appendFileSync(join(mnt, "etc/group"), "node:x:1000:\n");
    mkdirSync(join(mnt, "home/node"), { recursive: true });
    execFileSync("chown", ["1000:1000", join(mnt, "home/node")]);
    writeFileSync(join(mnt, "etc/resolv.conf"), "");
    // This machine reaches the npm registry through a TLS-inspecting proxy; like any team behind
    // one, the base image carries the proxy's CA so `npm ci` inside builds can verify it.
    const caEnv: string[] = [];
    if (existsSync(HOST_CA)) {
      mkdirSync(join(mnt, "etc/ssl/certs"), { recursive: true });
      copyFileSync(HOST_CA, join(mnt, "etc/ssl/certs/ca-certificates.crt"));
      caEnv.push("--env", "NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt");
    }
    buildah(["umount", ctr]);
    buildah(["config", "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--env", "NODE_VERSION=24", ...caEnv, "--cmd", '["node"]', ctr]);
    buildah(["commit", "--signature-policy", b.policyPath, "-q", "--format", "oci", ctr, "localhost/node:24-slim"]);
    buildah(["push", "--signature-policy", b.policyPath, "-q", "--format", "oci", "localhost/node:24-slim", `docker://${ref}`]);
    log(`pushed ${ref}`);
  } finally {
    try {
      buildah(["rm", ctr]);
    } catch {
      // already committed and removed
    }
  }
}
