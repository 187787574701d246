import type { BuildRecord } from "../../core/build.ts";
import type { DeployedImage, DeploymentKey, DeploymentReporter, DeploymentState, StatusOptions } from "../../core/deployer.ts";
import type { ClientFor } from "./check-run-reporter.ts";
import { retireEarlierOfApp } from "./app-deployments.ts";
import { endInterruptedDeployments } from "./interrupted-deployments.ts";
import { upsertPreviewComment } from "./preview-comment.ts";

const STATE_TEXT: Record<DeploymentState, string> = {
  in_progress: "🚀 Deploying",
  success: "✅ Ready",
  failure: "❌ Deploy failed",
  error: "⚠️ Deploy failed on microship's side",
  inactive: "⏹️ Deploy cancelled",
};

const WHY_REMOVED = { closed: "The pull request was closed.", expired: "The preview expired (deploy.preview.ttl_days)." } as const;
const REMOVED_LINE = {
  closed: "🗑️ The preview was removed when the pull request closed.",
  expired: "🗑️ The preview expired and was removed (deploy.preview.ttl_days); a new push deploys it again.",
} as const;

/** Deployments older than this many pages of one environment are left as GitHub has them. */
const MAX_INACTIVE = 100;

/**
 * GitHub's view of deploys: one deployment per deploy (ref = the sha, no required contexts: the
 * build's own check is still running when it deploys), its statuses, and for previews the pull
 * request's one sticky comment. Writes go through the installation's write lane.
 */
export class GitHubDeploymentReporter implements DeploymentReporter {
  private readonly clientFor: ClientFor;

  constructor(clientFor: ClientFor) {
    this.clientFor = clientFor;
  }

  async created(build: BuildRecord, key: DeploymentKey, image?: DeployedImage): Promise<number | null> {
    const gh = await this.clientFor(build.request.installationId);
    // A build resumed after a crash may have started this deploy before: that deployment ends
    // first. A failure here must not cost the new deployment; the old one then stays as it was.
    // A rollback or redeploy deploys an old build's image: that build's deployments are history, not interrupted.
    if (!image?.rollback && !image?.redeploy) await endInterruptedDeployments(gh, build, key).catch(() => 0);
    const { data } = await gh.request("POST /repos/{owner}/{repo}/deployments", {
      owner: key.owner,
      repo: key.repo,
      ref: build.request.sha,
      task: "deploy",
      environment: key.target.environment,
      description: key.app ? `microship: ${key.app}` : "microship",
      auto_merge: false,
      required_contexts: [],
      payload: { app: key.app ?? "", build: build.id, ...(image ? { image: image.imageRef, digest: image.digest, rollback: image.rollback === true, ...(image.redeploy ? { redeploy: true } : {}) } : {}) },
      transient_environment: key.target.transient,
      production_environment: key.target.production,
    });
    // 202 with a message instead of a deployment: GitHub merged nothing and made nothing.
    if (!data || typeof data.id !== "number") return null;
    await gh.request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", { owner: key.owner, repo: key.repo, deployment_id: data.id, state: "queued" });
    return data.id;
  }

  async status(build: BuildRecord, key: DeploymentKey, deploymentId: number, state: DeploymentState, o: StatusOptions): Promise<void> {
    const gh = await this.clientFor(build.request.installationId);
    // One app's deployment among several in this environment: GitHub's auto_inactive would retire the others' too.
    const perApp = key.app !== null && !o.allApps;
    if (o.only !== "comment") {
      await gh.request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", {
        owner: key.owner,
        repo: key.repo,
        deployment_id: deploymentId,
        state,
        log_url: o.logUrl,
        ...(o.url ? { environment_url: o.url } : {}),
        description: (o.description ?? STATE_TEXT[state].replace(/^\S+ /, "")).slice(0, 140),
        ...(perApp ? { auto_inactive: false } : {}),
      });
      if (perApp && state === "success") await retireEarlierOfApp(gh, key, deploymentId).catch(() => 0);
    }
    const pr = build.request.pr;
    // A cancelled deploy leaves the comment to the deploy that replaced it.
    if (o.only === "status" || key.target.kind !== "preview" || !pr || state === "inactive") return;
    const where = o.url && state === "success" ? `: ${o.url}` : "";
    const line = `${key.app ? `**${key.app}** ` : ""}${STATE_TEXT[state]}${where} (\`${build.request.sha.slice(0, 7)}\`, [log](${o.logUrl}))`;
    await upsertPreviewComment(gh, { owner: key.owner, repo: key.repo, issue_number: pr.number }, { app: key.app, line });
  }

  /** The preview went (its pull request closed, or it expired): its deployments go inactive and the comment says so. */
  async previewRemoved(installationId: number, owner: string, repo: string, prNumber: number, reason: "closed" | "expired" = "closed"): Promise<void> {
    const gh = await this.clientFor(installationId);
    const environment = `preview/pr-${prNumber}`;
    const { data } = await gh.request("GET /repos/{owner}/{repo}/deployments", { owner, repo, environment, per_page: MAX_INACTIVE });
    const deployments = (Array.isArray(data) ? data : []) as { id: number }[];
    for (const d of deployments) {
      await gh.request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", { owner, repo, deployment_id: d.id, state: "inactive", description: WHY_REMOVED[reason] });
    }
    if (deployments.length > 0) {
      await upsertPreviewComment(gh, { owner, repo, issue_number: prNumber }, { app: null, line: REMOVED_LINE[reason], only: true });
    }
  }
}
