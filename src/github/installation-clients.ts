import type { Probot } from "probot";
import type { GitHubRequester } from "../reporter/check-run-reporter.ts";
import type { TokenProvider } from "../source/checkout.ts";

/** Installation-authenticated clients and tokens, from Probot's app credentials. */
export function installationClients(probot: Probot): { clientFor(id: number): Promise<GitHubRequester>; tokens: TokenProvider } {
  const clientFor = async (installationId: number) => (await probot.auth(installationId)) as unknown as GitHubRequester;
  return {
    clientFor,
    tokens: {
      async installationToken(installationId: number): Promise<string> {
        const octokit = await probot.auth(installationId);
        // Probot caches installation tokens and refreshes them before their hour runs out.
        const auth = (await octokit.auth({ type: "installation" })) as { token: string };
        return auth.token;
      },
    },
  };
}
