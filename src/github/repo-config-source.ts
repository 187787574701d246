import type { ConfigSource } from "../core/ports.ts";
import type { BuildRequest } from "../core/types.ts";
import { parseRepoConfig, REPO_CONFIG_PATH, repoConfigSchema, type RepoConfigResult } from "../core/repo-config.ts";
import { isMicroshipError, userError } from "../core/errors.ts";
import { CONFIG_MAX_BYTES, safeReadFile } from "../source/safe-read.ts";
import { shownPath } from "../source/shown-path.ts";
import type { GitHubRequester } from "./reporter/check-run-reporter.ts";

const EXTENDS_LINE = /^_extends:[ \t]*(\S+)[ \t]*(#.*)?$/m;
const REPO_NAME = /^(?:([A-Za-z0-9-]{1,39})\/)?([A-Za-z0-9_.-]{1,100})$/;

/**
 * `.github/microship.yml` at the built sha, with Probot's `_extends` convention: `_extends: repo`
 * or `_extends: owner/repo` takes that repo's file as defaults (`.github` is the usual one).
 * Stricter than Probot, because the defaults can carry build_args and env: the other repo must
 * belong to the same owner, and a fork PR's config may not extend at all, or a fork could pull
 * a private repo's config (a token in its build_args) into a build it controls.
 */
export class RepoConfigSource implements ConfigSource {
  private readonly clientFor: (installationId: number) => Promise<GitHubRequester>;

  constructor(clientFor: (installationId: number) => Promise<GitHubRequester>) {
    this.clientFor = clientFor;
  }

  async load(request: BuildRequest, checkoutDir: string): Promise<RepoConfigResult | null> {
    let text: string | null;
    try {
      text = await safeReadFile(checkoutDir, REPO_CONFIG_PATH, { noLink: true, maxBytes: CONFIG_MAX_BYTES });
    } catch (err) {
      if (isMicroshipError(err) && err.kind === "user") return { ok: false, error: err };
      throw err;
    }
    if (text === null) return null;
    const ext = EXTENDS_LINE.exec(text);
    if (!ext) return parseRepoConfig(text);
    // Blank the line rather than delete it, so error positions still match the user's file.
    const own = parseRepoConfig(text.replace(EXTENDS_LINE, ""));
    if (!own.ok) return own;
    const refused = refuseExtends(request, ext[1]!, lineOf(text, ext.index));
    if (refused) return { ok: false, error: refused };
    const [baseOwner, baseRepo] = ext[1]!.includes("/") ? ext[1]!.split("/", 2) : [request.owner, ext[1]!];
    const baseText = await this.fetchFile(request.installationId, baseOwner!, baseRepo!);
    if (baseText === null) {
      return { ok: false, error: userError(`${REPO_CONFIG_PATH}: _extends names ${baseOwner}/${baseRepo}, which has no readable ${REPO_CONFIG_PATH}.`, {
        title: "Config schema error",
        location: { file: REPO_CONFIG_PATH, line: lineOf(text, ext.index) },
        hint: `Create ${REPO_CONFIG_PATH} in ${baseOwner}/${baseRepo}, install microship there, or remove _extends.`,
      }) };
    }
    const base = parseRepoConfig(baseText.replace(EXTENDS_LINE, ""), `${baseOwner}/${baseRepo}:${REPO_CONFIG_PATH}`);
    if (!base.ok) return base;
    const merged = repoConfigSchema.safeParse(mergeConfig(base.config, own.config));
    if (!merged.success) return { ok: false, error: userError(`${REPO_CONFIG_PATH}: the merged config is invalid: ${merged.error.issues[0]?.message}`, { title: "Config schema error" }) };
    return { ok: true, config: merged.data };
  }

  private async fetchFile(installationId: number, owner: string, repo: string): Promise<string | null> {
    try {
      const gh = await this.clientFor(installationId);
      const { data } = await gh.request("GET /repos/{owner}/{repo}/contents/{path}", { owner, repo, path: REPO_CONFIG_PATH });
      if (typeof data?.content !== "string" || data.content.length > (CONFIG_MAX_BYTES * 4) / 3 + 4096) return null;
      return Buffer.from(data.content, "base64").toString("utf8");
    } catch {
      return null;
    }
  }
}

/** Why `_extends: target` may not be followed for this build, or null when it may. */
export function refuseExtends(request: BuildRequest, target: string, line: number) {
  const location = { file: REPO_CONFIG_PATH, line };
  if (request.pr?.fork) {
    return userError(`${REPO_CONFIG_PATH}: _extends is not followed for pull requests from forks.`, {
      title: "_extends refused for a fork",
      location,
      hint: "A fork's config could otherwise pull another repository's config, build_args and env included, into a build the fork controls. Maintainers: to build fork PRs, keep the settings this repository needs in its own .github/microship.yml, without _extends.",
    });
  }
  const m = REPO_NAME.exec(target);
  if (!m || m[2] === "." || m[2] === "..") {
    return userError(`${REPO_CONFIG_PATH}: _extends is \`${shownPath(target.slice(0, 200))}\`, which is not \`repo\` or \`owner/repo\`.`, {
      title: "Config schema error",
      location,
      hint: "Name a repository of the same owner, for example `_extends: .github`.",
    });
  }
  if (m[1] && m[1].toLowerCase() !== request.owner.toLowerCase()) {
    return userError(`${REPO_CONFIG_PATH}: _extends names ${m[1]}/${m[2]}, a repository of another owner than ${request.owner}.`, {
      title: "_extends refused",
      location,
      hint: `microship follows _extends only within ${request.owner}: copy the shared settings into a repository of ${request.owner} (its .github repository is the usual place).`,
    });
  }
  return null;
}

/** The repo's own values win; maps (build_args, env) merge key by key; lists are replaced. */
export function mergeConfig(base: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(own)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? { ...b, ...v } : v;
  }
  return out;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

