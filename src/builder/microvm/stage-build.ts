import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { x as untar } from "tar";
import type { BuildInput } from "../../core/builder.ts";
import { lockfileHashes } from "../buildah/provenance.ts";
import { ext4FromDir } from "./disks.ts";
import { guestBuildConfig, type GuestBuildConfig } from "./guest-config.ts";
import type { VmDisks } from "./qemu-args.ts";
import type { VmBuildPlaces } from "./vm-build-places.ts";

export interface StagedBuild {
  disks: VmDisks;
  config: GuestBuildConfig;
  lockfiles: Record<string, string>;
}

/**
 * The work dir and the disks the guest boots with: the source and the config (with the secrets)
 * as ext4 images, whose directories are removed at once. The scratch and root disks come later.
 */
export async function stageBuild(dataDir: string, input: BuildInput, places: VmBuildPlaces, insecureRegistries?: string[]): Promise<StagedBuild> {
  await mkdir(join(dataDir, "microvm"), { recursive: true });
  const work = (places.work = await mkdtemp(join(dataDir, "microvm", "build-")));
  // A unix socket path must stay under ~100 bytes, which a deep data dir can exceed.
  places.sockDir = await mkdtemp(join(tmpdir(), "msvm-"));
  const src = join(work, "src");
  await mkdir(src);
  await untar({ file: input.source.path, cwd: src, strict: true, preservePaths: false });
  const lockfiles = await lockfileHashes(src);
  const config = guestBuildConfig(input, { insecureRegistries });
  const cfgDir = join(work, "config");
  await mkdir(cfgDir, { mode: 0o700 });
  await writeFile(join(cfgDir, "build.json"), JSON.stringify(config), { mode: 0o600 });
  const disks = { root: join(work, "root.qcow2"), source: join(work, "src.ext4"), config: join(work, "config.ext4"), scratch: join(work, "scratch.ext4") };
  await ext4FromDir(src, disks.source, { label: "src", extraMiB: 64 });
  await ext4FromDir(cfgDir, disks.config, { label: "config" });
  // The secrets now live only on the config disk, which goes with the work dir.
  await rm(cfgDir, { recursive: true, force: true });
  await rm(src, { recursive: true, force: true });
  return { disks, config, lockfiles };
}
