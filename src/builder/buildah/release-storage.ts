import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import type { BuildahEnv } from "./buildah-env.ts";
import { runBuildah } from "./buildah-command.ts";

/**
 * Lets go of everything buildah holds mounted under `dir`. A killed or failed build leaves its
 * working container's overlay mounted, and the overlay driver bind-mounts its own home; while
 * they stay, the data dir can't be removed (EBUSY) and the mounts outlive the app.
 */
export async function releaseStorage(env: BuildahEnv, dir: string): Promise<void> {
  await runBuildah(env, ["rm", "--all"]).catch(() => undefined);
  unmountUnder(dir);
}

/** Unmounts every mount point at or below `dir`, deepest first (lazily: a busy one detaches). */
export function unmountUnder(dir: string): void {
  const prefix = dir.replace(/\/+$/, "");
  const points = mountPoints().filter((m) => m === prefix || m.startsWith(`${prefix}/`));
  for (const m of points.sort((a, b) => b.length - a.length)) spawnSync("umount", ["-l", m], { stdio: "ignore" });
}

function mountPoints(): string[] {
  let text: string;
  try {
    text = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  // Field 5 is the mount point, with spaces and the like octal-escaped.
  return text.split("\n").filter(Boolean).map((l) => l.split(" ")[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}
