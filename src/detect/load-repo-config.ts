import { parseRepoConfig, REPO_CONFIG_PATH, type RepoConfigResult } from "../core/repo-config.ts";
import { isMicroshipError } from "../core/errors.ts";
import { safeReadFile } from "../source/safe-read.ts";

/**
 * `.github/microship.yml` from a local directory, or null when there is none. Read through the
 * safe reader: no link at that path, nothing special, nothing over 1 MiB.
 */
export async function loadRepoConfigFromDir(dir: string): Promise<RepoConfigResult | null> {
  let text: string | null;
  try {
    text = await safeReadFile(dir, REPO_CONFIG_PATH, { noLink: true });
  } catch (err) {
    if (isMicroshipError(err) && err.kind === "user") return { ok: false, error: err };
    throw err;
  }
  return text === null ? null : parseRepoConfig(text);
}
