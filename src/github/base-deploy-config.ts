import type { DeployConfig } from "../core/deploy/deploy-config.ts";
import { parseRepoConfig, REPO_CONFIG_PATH } from "../core/repo-config.ts";
import { CONFIG_MAX_BYTES } from "../source/safe-read.ts";
import type { GitHubRequester } from "./reporter/check-run-reporter.ts";

const EXTENDS_LINE = /^_extends:[ \t]*\S+[ \t]*(#.*)?$/m;

export type BaseDeployConfig = { ok: true; deploy: DeployConfig | undefined } | { ok: false; reason: string };

/**
 * The `deploy:` block of the config on a branch of the base repository (a PR's base branch, the
 * default branch), read through the contents API: what `/deploy` and `/rollback` run with, so a
 * fork's own config never decides them. `_extends` is not followed here (its defaults don't
 * apply to these commands); the repository's own file is read as it is.
 */
export async function baseDeployConfig(gh: GitHubRequester, owner: string, repo: string, ref: string): Promise<BaseDeployConfig> {
  let data: { content?: unknown; size?: unknown } | undefined;
  try {
    ({ data } = await gh.request("GET /repos/{owner}/{repo}/contents/{path}", { owner, repo, path: REPO_CONFIG_PATH, ref }));
  } catch (err) {
    if ((err as { status?: number }).status === 404) return { ok: true, deploy: undefined };
    throw err;
  }
  if (typeof data?.content !== "string" || data.content.length > (CONFIG_MAX_BYTES * 4) / 3 + 4096) {
    return { ok: false, reason: `${REPO_CONFIG_PATH} on ${ref} is not a readable file` };
  }
  const text = Buffer.from(data.content, "base64").toString("utf8");
  if (Buffer.byteLength(text) > CONFIG_MAX_BYTES) return { ok: false, reason: `${REPO_CONFIG_PATH} on ${ref} is too large` };
  const parsed = parseRepoConfig(text.replace(EXTENDS_LINE, ""));
  if (!parsed.ok) return { ok: false, reason: `${REPO_CONFIG_PATH} on ${ref} is invalid: ${parsed.error.message.slice(0, 300)}` };
  return { ok: true, deploy: parsed.config.deploy };
}
