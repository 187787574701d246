import { loadEnv } from "../../config/env.ts";
import { microvmDataDir } from "../../default-parts.ts";
import { ensureVmImage } from "../../builder/microvm/vm-image.ts";

const USAGE = "usage: microship images build-vm [--force]";

/** Builds the microvm builder's VM image ahead of the first build, which would otherwise wait for it. */
export async function imagesCommand(args: string[]): Promise<number> {
  const [sub, ...flags] = args;
  if (sub !== "build-vm" || flags.some((f) => f !== "--force")) {
    console.error(USAGE);
    return 2;
  }
  const env = loadEnv();
  const image = await ensureVmImage({ dataDir: microvmDataDir(env), force: flags.includes("--force") });
  const how = image.built ? `built in ${(image.buildMs / 1000).toFixed(0)} s` : "already built from the same inputs";
  console.log(`builder VM image ${how}: kernel ${image.kernelVersion}, root ${image.rootDisk}`);
  return 0;
}
