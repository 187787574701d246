import { execFileSync } from "node:child_process";
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RootfsImage } from "../../src/builder/buildah/import-rootfs.ts";

/**
 * How each stand-in for a Docker Hub image is made from Debian packages and npm, since this
 * machine reaches neither Docker Hub nor PyPI. Bump a recipe's version to rebuild it.
 */
export interface Recipe {
  /** Repository and tag under the mirror's `library/`. */
  ref: string;
  version: string;
  make(cache: string): RootfsImage;
}

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const HOST_CA = "/etc/ssl/certs/ca-certificates.crt";
const DEBIAN_MIRROR = process.env.MICROSHIP_TEST_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

export function log(msg: string): void {
  process.stderr.write(`[base-images] ${msg}\n`);
}

export const busybox: Recipe = {
  ref: "busybox:latest",
  version: "1",
  make: () => ({
    name: "localhost/busybox:latest",
    dir: busyboxRootfs(),
    env: { PATH },
    cmd: ["sh"],
  }),
};

export const node: Recipe = {
  ref: "node:24-slim",
  version: "4",
  make: (cache) => ({
    name: "localhost/node:24-slim",
    tar: debianRootfsTar(cache),
    env: { PATH, NODE_VERSION: nodeVersion(), ...(existsSync(HOST_CA) ? { NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt" } : {}) },
    cmd: ["node"],
    customize: (mnt) => {
      const bin = join(mnt, "usr/local/bin/node");
      copyFileSync(nodeBinary(), bin);
      chmodSync(bin, 0o755);
      const npmDir = join(mnt, "usr/local/lib/node_modules/npm");
      mkdirSync(npmDir, { recursive: true });
      execFileSync("tar", ["-xzf", npmTarball(cache, "npm@11"), "-C", npmDir, "--strip-components=1", "--no-same-owner"]);
      symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(mnt, "usr/local/bin/npm"));
      symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", join(mnt, "usr/local/bin/npx"));
      // The official image ships corepack too; pnpm and yarn templates start with `corepack enable`.
      const corepackDir = join(mnt, "usr/local/lib/node_modules/corepack");
      mkdirSync(corepackDir, { recursive: true });
      execFileSync("tar", ["-xzf", npmTarball(cache, "corepack@0"), "-C", corepackDir, "--strip-components=1", "--no-same-owner"]);
      symlinkSync("../lib/node_modules/corepack/dist/corepack.js", join(mnt, "usr/local/bin/corepack"));
      // The official image has a `node` user and group with id 1000.
      appendFileSync(join(mnt, "etc/passwd"), "node:x:1000:1000::/home/node:/bin/bash\n");
      appendFileSync(join(mnt, "etc/group"), "node:x:1000:\n");
      mkdirSync(join(mnt, "home/node"), { recursive: true });
      execFileSync("chown", ["1000:1000", join(mnt, "home/node")]);
      // Behind a TLS-inspecting proxy (as here, for npm) the base image must trust the proxy's CA,
      // as any team's internal base image would.
      if (existsSync(HOST_CA)) {
        mkdirSync(join(mnt, "etc/ssl/certs"), { recursive: true });
        copyFileSync(HOST_CA, join(mnt, "etc/ssl/certs/ca-certificates.crt"));
      }
    },
  }),
};

export const python: Recipe = {
  ref: "python:3.11-slim",
  version: "1",
  make: (cache) => ({
    name: "localhost/python:3.11-slim",
    tar: debianRootfsTar(cache),
    env: { PATH, LANG: "C.UTF-8", PYTHON_VERSION: "3.11" },
    cmd: ["python3"],
    run: [
      "export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip >/dev/null" +
        " && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/log/apt /var/log/dpkg.log",
      // Like the official image: `python` and `pip` on PATH, and pip free to install system-wide.
      "ln -s /usr/bin/python3 /usr/local/bin/python && ln -s /usr/bin/pip3 /usr/local/bin/pip && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED",
    ],
  }),
};

// Docker Hub's image is Alpine's; Debian's caddy package gives the same binary, paths and CMD.
export const caddy: Recipe = {
  ref: "caddy:2-alpine",
  version: "1",
  make: (cache) => ({
    name: "localhost/caddy:2-alpine",
    tar: debianRootfsTar(cache),
    env: { PATH, XDG_CONFIG_HOME: "/config", XDG_DATA_HOME: "/data" },
    cmd: ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"],
    run: [
      "export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq --no-install-recommends caddy >/dev/null" +
        " && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/log/apt /var/log/dpkg.log && mkdir -p /etc/caddy /srv /config /data",
    ],
  }),
};

export const RECIPES = [busybox, node, python, caddy];

/** busybox-static and its applet links: a 2 MB image made in under a second. */
function busyboxRootfs(): string {
  const r = mkdtempSync(join(tmpdir(), "ms-busybox-"));
  for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "root", "proc", "sys", "dev", "tmp", "var/tmp"]) mkdirSync(join(r, d), { recursive: true });
  chmodSync(join(r, "tmp"), 0o1777);
  chmodSync(join(r, "var/tmp"), 0o1777);
  copyFileSync("/bin/busybox", join(r, "bin/busybox"));
  chmodSync(join(r, "bin/busybox"), 0o755);
  for (const applet of execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a && a !== "busybox")) {
    symlinkSync("/bin/busybox", join(r, "bin", applet));
  }
  writeFileSync(join(r, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  writeFileSync(join(r, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  writeFileSync(join(r, "etc/nsswitch.conf"), "hosts: files dns\n");
  return r;
}

/** A debootstrap minbase of bookworm as a tar with numeric owners, shared by node and python. */
function debianRootfsTar(cache: string): string {
  const tarPath = join(cache, "bookworm-minbase.tar");
  if (existsSync(tarPath)) return tarPath;
  const dir = mkdtempSync(join(tmpdir(), "ms-rootfs-"));
  try {
    log("debootstrap --variant=minbase bookworm (about 30 s, once)");
    execFileSync("debootstrap", ["--variant=minbase", "bookworm", dir, DEBIAN_MIRROR], { stdio: ["ignore", "ignore", "inherit"] });
    execFileSync("sh", ["-c", 'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/* "$1"/var/log/* && : > "$1/etc/resolv.conf" && : > "$1/etc/hostname"', "sh", dir]);
    execFileSync("tar", ["-C", dir, "--numeric-owner", "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "-cf", `${tarPath}.partial`, "."]);
    renameSync(`${tarPath}.partial`, tarPath);
    return tarPath;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The real Node 24 binary of the npm `node` package (bin/node may be a link to it). */
function nodeBinary(): string {
  const candidates = [new URL("../../node_modules/node/bin/node", import.meta.url).pathname, process.execPath];
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    const real = realpathSync(c);
    if (execFileSync(real, ["--version"], { encoding: "utf8" }).startsWith("v24.")) return real;
  }
  throw new Error("no Node 24 binary found: run npm install (the `node` dev dependency ships it)");
}

function nodeVersion(): string {
  return execFileSync(nodeBinary(), ["--version"], { encoding: "utf8" }).trim().replace(/^v/, "");
}

/** A package from the npm registry (`npm pack`), cached: the only downloads a cold build makes there. */
function npmTarball(cache: string, spec: "npm@11" | "corepack@0"): string {
  const dir = join(cache, "npm-pack");
  const [name, major] = spec.split("@");
  const found = existsSync(dir) ? readdirSync(dir).find((f) => new RegExp(`^${name}-${major}\\..*\\.tgz$`).test(f)) : undefined;
  if (found) return join(dir, found);
  mkdirSync(dir, { recursive: true });
  const file = execFileSync("npm", ["pack", spec, "--silent"], { cwd: dir, encoding: "utf8" }).trim().split("\n").pop()!;
  return join(dir, file);
}
