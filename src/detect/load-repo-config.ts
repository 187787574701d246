import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseRepoConfig, REPO_CONFIG_PATH, type RepoConfigResult } from "../config/repo-config.ts";

/** `.github/microship.yml` from a local directory, or null when there is none. */
export async function loadRepoConfigFromDir(dir: string): Promise<RepoConfigResult | null> {
  const text = await readFile(join(dir, REPO_CONFIG_PATH), "utf8").catch(() => null);
  return text === null ? null : parseRepoConfig(text);
}
