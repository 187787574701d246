import type { Env } from "../config/env.ts";
import type { GitHubUsers } from "../core/ports.ts";
import type { ClientFor } from "./reporter/check-run-reporter.ts";
import { GitHubUserAuth } from "./user-auth.ts";

/** The dashboard's GitHub, on github.com or the Enterprise Server Probot talks to; null without OAuth credentials. */
export function dashboardUsers(env: Env, clientFor: ClientFor): GitHubUsers | null {
  if (!env.GITHUB_CLIENT_ID || !env.GITHUB_CLIENT_SECRET) return null;
  const web = env.GHE_HOST ? `${env.GHE_PROTOCOL ?? "https"}://${env.GHE_HOST}` : "https://github.com";
  return new GitHubUserAuth({
    clientId: env.GITHUB_CLIENT_ID,
    clientSecret: env.GITHUB_CLIENT_SECRET,
    webBaseUrl: web,
    apiBaseUrl: env.GHE_HOST ? `${web}/api/v3` : "https://api.github.com",
    clientFor,
  });
}
