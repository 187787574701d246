import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type StorageDriver = "vfs" | "overlay";

/**
 * overlay is the default: on this kind of host (ext4, kernel overlayfs) a three-step build takes
 * 1.0 s against 2.9 s with vfs, and vfs copies the whole rootfs for every layer, which hurts most
 * on 100 MB+ Debian bases. vfs stays available for hosts whose filesystem can't be an overlay
 * upper dir (overlay on overlay, some nested containers).
 */
export const DEFAULT_STORAGE_DRIVER: StorageDriver = "overlay";

export interface BuildahEnvOptions {
  /** Everything buildah keeps goes under here: storage, run state, configs. */
  dir: string;
  storageDriver?: StorageDriver;
  /** Registries spoken to over plain HTTP (loopback registries, a test mirror). */
  insecureRegistries?: string[];
}

export interface BuildahEnv {
  /** Global flags: our own storage, never /var/lib/containers. */
  globalArgs: string[];
  /** Environment for every buildah/skopeo call: our own configs, never /etc. */
  env: Record<string, string>;
  policyPath: string;
  storageDriver: StorageDriver;
}

/**
 * Isolated buildah storage and configuration under the data dir. Root here lacks
 * CAP_SYS_RESOURCE and cgroups are hybrid, so the containers.conf sets ulimits, runc and
 * cgroupfs; the registries.conf lists the registries we reach over HTTP.
 */
export function buildahEnv(o: BuildahEnvOptions): BuildahEnv {
  const driver = o.storageDriver ?? DEFAULT_STORAGE_DRIVER;
  const root = join(o.dir, "storage", driver);
  const conf = join(o.dir, "conf");
  mkdirSync(conf, { recursive: true });
  const containersConf = join(conf, "containers.conf");
  writeFileSync(containersConf, [
    "[containers]",
    'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
    "",
    "[engine]",
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    "",
  ].join("\n"));
  // Our own storage.conf too, so nothing of /etc/containers/storage.conf (mount options, a
  // different graph root) leaks into the flags below.
  const storageConf = join(conf, "storage.conf");
  writeFileSync(storageConf, [
    "[storage]",
    `driver = "${driver}"`,
    `graphroot = "${join(root, "root")}"`,
    `runroot = "${join(root, "run")}"`,
    "",
  ].join("\n"));
  const registriesConf = join(conf, "registries.conf");
  writeRegistriesConf(registriesConf, o.insecureRegistries ?? []);
  const policyPath = join(conf, "policy.json");
  writeFileSync(policyPath, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
  return {
    globalArgs: ["--root", join(root, "root"), "--runroot", join(root, "run"), "--storage-driver", driver],
    env: {
      CONTAINERS_CONF: containersConf,
      CONTAINERS_STORAGE_CONF: storageConf,
      CONTAINERS_REGISTRIES_CONF: registriesConf,
      REGISTRIES_CONFIG_PATH: registriesConf,
      BUILDAH_ISOLATION: "chroot",
      TMPDIR: join(o.dir, "tmp"),
    },
    policyPath,
    storageDriver: driver,
  };
}

/** Unqualified names resolve on Docker Hub, as in Dockerfiles everywhere; the listed hosts speak HTTP. */
export function writeRegistriesConf(path: string, insecure: string[]): void {
  writeFileSync(path, [
    'unqualified-search-registries = ["docker.io"]',
    "",
    ...[...new Set(insecure)].flatMap((r) => ["[[registry]]", `location = "${r}"`, "insecure = true", ""]),
  ].join("\n"));
}

export function ensureTmp(env: BuildahEnv): void {
  mkdirSync(env.env.TMPDIR!, { recursive: true });
}
