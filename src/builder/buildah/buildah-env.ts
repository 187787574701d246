import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface BuildahEnvOptions {
  /** Everything buildah keeps goes under here: storage, run state, configs. */
  dir: string;
  storageDriver?: "vfs" | "overlay";
  /** Registries spoken to over plain HTTP (loopback registries, a test mirror). */
  insecureRegistries?: string[];
}

export interface BuildahEnv {
  /** Global flags: our own storage, never /var/lib/containers. */
  globalArgs: string[];
  /** Environment for every buildah/skopeo call: our own configs, never /etc. */
  env: Record<string, string>;
  policyPath: string;
}

/**
 * Isolated buildah storage and configuration under the data dir. Root here lacks
 * CAP_SYS_RESOURCE and cgroups are hybrid, so the containers.conf sets ulimits, runc and
 * cgroupfs; the registries.conf lists the registries we reach over HTTP.
 */
export function buildahEnv(o: BuildahEnvOptions): BuildahEnv {
  const driver = o.storageDriver ?? "vfs";
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
  const registriesConf = join(conf, "registries.conf");
  writeFileSync(registriesConf, [
    'unqualified-search-registries = ["docker.io"]',
    "",
    ...(o.insecureRegistries ?? []).flatMap((r) => ["[[registry]]", `location = "${r}"`, "insecure = true", ""]),
  ].join("\n"));
  const policyPath = join(conf, "policy.json");
  writeFileSync(policyPath, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
  return {
    globalArgs: ["--root", join(root, "root"), "--runroot", join(root, "run"), "--storage-driver", driver],
    env: {
      CONTAINERS_CONF: containersConf,
      CONTAINERS_REGISTRIES_CONF: registriesConf,
      REGISTRIES_CONFIG_PATH: registriesConf,
      BUILDAH_ISOLATION: "chroot",
      TMPDIR: join(o.dir, "tmp"),
    },
    policyPath,
  };
}

export function ensureTmp(env: BuildahEnv): void {
  mkdirSync(env.env.TMPDIR!, { recursive: true });
}
