import type { Probot } from "probot";
import type { GitHubRequester, RequestHints } from "./reporter/check-run-reporter.ts";
import type { TokenProvider } from "../source/checkout.ts";
import { WriteLane } from "./write-lane.ts";

/**
 * Installation-authenticated clients and tokens, from Probot's app credentials. Every write of
 * an installation goes through that installation's WriteLane, so first feedback on a new push
 * never waits behind the live log tails of the builds already running.
 */
export function installationClients(probot: Probot): { clientFor(id: number): Promise<GitHubRequester>; tokens: TokenProvider } {
  const lanes = new Map<number, WriteLane>();
  const laneOf = (installationId: number) => {
    let lane = lanes.get(installationId);
    if (!lane) lanes.set(installationId, (lane = new WriteLane()));
    return lane;
  };
  const clientFor = async (installationId: number): Promise<GitHubRequester> => {
    const octokit = (await probot.auth(installationId)) as unknown as GitHubRequester;
    return {
      request(route: string, params?: Record<string, unknown>, hints?: RequestHints) {
        if (/^(GET|HEAD) /.test(route)) return octokit.request(route, params);
        return laneOf(installationId).run(hints?.background ? "background" : "now", () => octokit.request(route, params));
      },
    };
  };
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
