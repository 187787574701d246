import type { DeployTarget } from "../core/deploy/deploy-target.ts";
import type { RollbackRequestResult, RollbackRequests } from "../core/deploy/rollback-requests.ts";
import { isRepositoryId } from "../core/types.ts";
import { baseDeployConfig } from "./base-deploy-config.ts";
import { deployHistory } from "./deploy-history.ts";
import type { ClientFor } from "./reporter/check-run-reporter.ts";

const PREVIEW_SLUG = /^pr-([0-9]{1,9})$/;

/** A rollback's request as `/rollback` builds it, read through the installation's client. */
export class GitHubRollbackRequests implements RollbackRequests {
  private readonly clientFor: ClientFor;

  constructor(clientFor: ClientFor) {
    this.clientFor = clientFor;
  }

  async forTarget(installationId: number, owner: string, repo: string, target: DeployTarget): Promise<RollbackRequestResult> {
    const gh = await this.clientFor(installationId);
    let ref: string;
    let repositoryId: number | null;
    if (target.kind === "preview") {
      const pr = PREVIEW_SLUG.exec(target.slug);
      if (!pr) return { ok: false, reason: `${target.environment} is not a pull request's preview` };
      const { data } = await gh.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", { owner, repo, pull_number: Number(pr[1]) });
      if (data.state !== "open") return { ok: false, reason: "its pull request is closed and its preview goes away" };
      ref = String(data.base.ref);
      repositoryId = idOf(data.base.repo);
    } else {
      const { data } = await gh.request("GET /repos/{owner}/{repo}", { owner, repo });
      ref = String(data.default_branch);
      repositoryId = idOf(data);
    }
    const base = await baseDeployConfig(gh, owner, repo, ref);
    if (!base.ok) return { ok: false, reason: base.reason };
    const history = await deployHistory(gh, owner, repo, target.environment);
    return { ok: true, request: { installationId, owner, repo, repositoryId, target, history, deploy: base.deploy } };
  }
}

/** The repository's id as GitHub gave it now (what its secrets are kept by), or null. */
function idOf(repository: { id?: unknown } | null | undefined): number | null {
  return isRepositoryId(repository?.id) ? repository.id : null;
}
