import { execa } from "execa";
import type { BuildahEnv } from "./buildah-env.ts";
import { runBuildah, toolEnv } from "./buildah-command.ts";

export interface RootfsImage {
  /** A tar of the root filesystem (numeric owners kept), or a directory to tar up on the fly. */
  tar?: string;
  dir?: string;
  /** Local name to commit as, e.g. localhost/busybox:latest. */
  name: string;
  env?: Record<string, string>;
  cmd?: string[];
  entrypoint?: string[];
  workdir?: string;
  user?: string;
  /** Runs with the mount point as its argument before commit, to add files. */
  customize?: (mountPoint: string) => Promise<void> | void;
  /** Shell commands run inside the image (chroot isolation, host network) before commit. */
  run?: string[];
}

/**
 * Makes an image from a root filesystem without pulling anything. The files go in with a tar
 * pipe into a `buildah from scratch` mount, because `buildah copy` would chown every file to
 * root and break setuid bits and per-user homes.
 */
export async function importRootfs(env: BuildahEnv, image: RootfsImage): Promise<void> {
  const ctr = await runBuildah(env, ["from", "--signature-policy", env.policyPath, "scratch"]);
  try {
    const mnt = await runBuildah(env, ["mount", ctr]);
    const extract = ["-C", mnt, "--numeric-owner", "-xpf", "-"];
    if (image.tar) await execa("tar", [...extract.slice(0, -1), image.tar], { env: toolEnv(env) });
    else if (image.dir) await execa("tar", ["-C", image.dir, "--numeric-owner", "-cf", "-", "."], { env: toolEnv(env) }).pipe("tar", extract);
    await image.customize?.(mnt);
    for (const cmd of image.run ?? []) await runBuildah(env, ["run", "--isolation", "chroot", ctr, "--", "/bin/sh", "-c", cmd]);
    await runBuildah(env, ["umount", ctr]);
    const config = [
      ...Object.entries(image.env ?? {}).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
      ...(image.cmd ? ["--cmd", JSON.stringify(image.cmd)] : []),
      ...(image.entrypoint ? ["--entrypoint", JSON.stringify(image.entrypoint)] : []),
      ...(image.workdir ? ["--workingdir", image.workdir] : []),
      ...(image.user ? ["--user", image.user] : []),
    ];
    if (config.length > 0) await runBuildah(env, ["config", ...config, ctr]);
    await runBuildah(env, ["commit", "--signature-policy", env.policyPath, "-q", "--format", "oci", "--rm", ctr, image.name]);
  } catch (err) {
    await runBuildah(env, ["rm", ctr]).catch(() => undefined);
    throw err;
  }
}
