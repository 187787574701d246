import { MAX_HISTORY, type DeployHistoryEntry } from "../core/deploy/rollback-choice.ts";
import type { GitHubRequester } from "./reporter/check-run-reporter.ts";

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const SHA = /^[0-9a-f]{40}$/;
const MAX_FIELD = 512;

/**
 * The deploys of one environment, newest first, from GitHub's deployments: each one microship
 * made keeps its image (by digest), app and build in the payload. Anything else there (made by
 * hand or by another tool, or malformed) is not a version to go back to.
 */
export async function deployHistory(gh: GitHubRequester, owner: string, repo: string, environment: string): Promise<DeployHistoryEntry[]> {
  const { data } = await gh.request("GET /repos/{owner}/{repo}/deployments", { owner, repo, environment, per_page: MAX_HISTORY });
  const list = (Array.isArray(data) ? data : []) as { sha?: unknown; payload?: unknown }[];
  return list.map(historyEntry).filter((e): e is DeployHistoryEntry => e !== null);
}

export function historyEntry(d: { sha?: unknown; payload?: unknown }): DeployHistoryEntry | null {
  const p = d.payload;
  if (!p || typeof p !== "object" || Array.isArray(p)) return null;
  const { app, build, image, digest, rollback, redeploy } = p as Record<string, unknown>;
  if (typeof d.sha !== "string" || !SHA.test(d.sha)) return null;
  if (typeof image !== "string" || typeof digest !== "string" || typeof build !== "string" || typeof app !== "string") return null;
  if (image.length > MAX_FIELD || build.length > MAX_FIELD || app.length > MAX_FIELD || !DIGEST.test(digest)) return null;
  // The reference must pin the digest it names, or it could pull something else.
  if (!image.endsWith(`@${digest}`)) return null;
  return { app: app === "" ? null : app, sha: d.sha, imageRef: image, digest, buildId: build, rollback: rollback === true || redeploy === true };
}
