import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConfigSource } from "../core/ports.ts";
import type { BuildRequest } from "../core/types.ts";
import { parseRepoConfig, REPO_CONFIG_PATH, repoConfigSchema, type RepoConfigResult } from "../config/repo-config.ts";
import { userError } from "../core/errors.ts";
import type { GitHubRequester } from "../reporter/check-run-reporter.ts";

const EXTENDS_LINE = /^_extends:[ \t]*(\S+)[ \t]*(#.*)?$/m;

/**
 * `.github/microship.yml` at the built sha, with Probot's `_extends` convention: `_extends: repo`
 * or `_extends: owner/repo` takes that repo's file as defaults (`.github` is the usual one).
 */
export class RepoConfigSource implements ConfigSource {
  private readonly clientFor: (installationId: number) => Promise<GitHubRequester>;

  constructor(clientFor: (installationId: number) => Promise<GitHubRequester>) {
    this.clientFor = clientFor;
  }

  async load(request: BuildRequest, checkoutDir: string): Promise<RepoConfigResult | null> {
    let text: string;
    try {
      text = await readFile(join(checkoutDir, REPO_CONFIG_PATH), "utf8");
    } catch {
      return null;
    }
    const ext = EXTENDS_LINE.exec(text);
    if (!ext) return parseRepoConfig(text);
    // Blank the line rather than delete it, so error positions still match the user's file.
    const own = parseRepoConfig(text.replace(EXTENDS_LINE, ""));
    if (!own.ok) return own;
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
      if (typeof data?.content !== "string") return null;
      return Buffer.from(data.content, "base64").toString("utf8");
    } catch {
      return null;
    }
  }
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

