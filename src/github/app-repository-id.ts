import { pino } from "pino";
import { createProbot } from "probot";
import type { Env } from "../config/env.ts";
import { isRepositoryId } from "../core/types.ts";
import { MicroshipOctokit } from "./octokit-class.ts";

/** The repository as GitHub names it now (after a rename, the new name) and its id. */
export interface AppRepository {
  id: number;
  owner: string;
  repo: string;
}

/** Something the operator must fix (no credentials, the app not installed on the repository): said plainly. */
export class AppRepositoryRefused extends Error {}

const TIMEOUT_MS = 15_000;

/**
 * `owner/repo`'s GitHub id, asked with the app's own credentials (APP_ID and PRIVATE_KEY or
 * PRIVATE_KEY_PATH, GHE_HOST honoured, as the server reads them): the app's JWT finds the
 * installation on the repository (none: refused), then a token of that installation limited to
 * this one repository and to metadata read reads the repository. So the operator's CLI keys
 * secrets by the repository GitHub has under that name now, and only one the app is installed on.
 */
export async function appRepositoryId(env: Env, owner: string, repo: string): Promise<AppRepository> {
  if (!env.APP_ID || !(env.PRIVATE_KEY || env.PRIVATE_KEY_PATH)) {
    throw new AppRepositoryRefused("secrets are kept by GitHub's repository id, asked with the app's credentials: set APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH), as for the server");
  }
  const appEnv = Object.fromEntries(
    Object.entries({ APP_ID: env.APP_ID, PRIVATE_KEY: env.PRIVATE_KEY, PRIVATE_KEY_PATH: env.PRIVATE_KEY_PATH, GHE_HOST: env.GHE_HOST, GHE_PROTOCOL: env.GHE_PROTOCOL }).filter(([, v]) => v !== undefined),
  ) as Record<string, string>;
  const probot = createProbot({ env: appEnv, overrides: { log: pino({ level: "silent" }), Octokit: MicroshipOctokit, request: { timeout: TIMEOUT_MS } } });
  const app = await probot.auth();
  const installationId = await installationOf(app, owner, repo);
  const { data: minted } = await app.request("POST /app/installations/{installation_id}/access_tokens", { installation_id: installationId, repositories: [repo], permissions: { metadata: "read" } });
  const token = minted.token;
  const baseUrl = env.GHE_HOST ? `${env.GHE_PROTOCOL ?? "https"}://${env.GHE_HOST}/api/v3` : "https://api.github.com";
  const client = new MicroshipOctokit({ auth: { token }, baseUrl, request: { timeout: TIMEOUT_MS }, log: pino({ level: "silent" }) });
  const { data } = await client.request("GET /repos/{owner}/{repo}", { owner, repo });
  const id = Number(data.id);
  if (!isRepositoryId(id)) throw new Error(`GitHub gave no repository id for ${owner}/${repo}`);
  return { id, owner: data.owner.login, repo: data.name };
}

async function installationOf(app: Awaited<ReturnType<ReturnType<typeof createProbot>["auth"]>>, owner: string, repo: string): Promise<number> {
  try {
    const { data } = await app.request("GET /repos/{owner}/{repo}/installation", { owner, repo });
    return data.id;
  } catch (err) {
    if ((err as { status?: number }).status === 404) {
      throw new AppRepositoryRefused(`the app is not installed on ${owner}/${repo} (or there is no such repository): install it there first; secrets go only to repositories it builds`);
    }
    throw err;
  }
}
