import type { PullRequestStates } from "../core/deploy/reconciler.ts";
import type { ClientFor } from "./reporter/check-run-reporter.ts";

/**
 * Whether a pull request is open, asked of GitHub with the installation's token. A 404 (the
 * pull request, the repository or the installation's access is gone) counts as closed: nothing
 * will ever close that preview otherwise. Any other error is the caller's to retry.
 */
export class GitHubPullRequestStates implements PullRequestStates {
  private readonly clientFor: ClientFor;

  constructor(clientFor: ClientFor) {
    this.clientFor = clientFor;
  }

  async isOpen(installationId: number, owner: string, repo: string, number: number): Promise<boolean> {
    try {
      const gh = await this.clientFor(installationId);
      const { data } = await gh.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", { owner, repo, pull_number: number });
      return (data as { state?: unknown }).state === "open";
    } catch (err) {
      if ((err as { status?: unknown }).status === 404) return false;
      throw err;
    }
  }
}
