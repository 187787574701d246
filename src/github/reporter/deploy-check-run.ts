import type { DeployReport } from "../../core/deployer.ts";
import type { RunRef } from "../../core/ports.ts";
import { CHECK_NAME, type GitHubRequester } from "./check-run-reporter.ts";

/**
 * The `microship/deploy` check run (`microship/{app}/deploy` in a multi-app repo): a failed
 * deploy fails it while the build's own run stays green; a later good deploy of the sha passes
 * it again. Found by the build's id first, so a retried conclusion makes no second one.
 */
export async function reportDeployCheck(
  gh: GitHubRequester, run: RunRef, deploy: DeployReport, detailsUrl: string, findRun: (name: string) => Promise<number | null>,
): Promise<void> {
  const name = run.app ? `${CHECK_NAME}/${run.app}/deploy` : `${CHECK_NAME}/deploy`;
  const { owner, repo, sha } = run.build.request;
  const output = deploy.ok ? {
    title: `Deployed to ${deploy.environment}`.slice(0, 255),
    summary: [`✅ Deployed to **${deploy.environment}**: ${deploy.url ?? ""}`, ...notesOf(deploy), `[Full log](${detailsUrl})`].join("\n\n"),
  } : {
    title: `Deploy to ${deploy.environment} failed`.slice(0, 255),
    summary: [
      `❌ The image was built and pushed, but the deploy to **${deploy.environment}** failed.`,
      "",
      deploy.error ?? "No reason was given.",
      "",
      ...notesOf(deploy).flatMap((n) => [n, ""]),
      "What served before keeps serving. Push a fix, or re-run the build to deploy again.",
      "",
      `[Full log](${detailsUrl})`,
    ].join("\n"),
  };
  const body = { status: "completed", conclusion: deploy.ok ? "success" : "failure", completed_at: new Date().toISOString(), details_url: detailsUrl, output };
  const known = await findRun(name);
  if (known !== null) {
    await gh.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", { owner, repo, check_run_id: known, ...body });
    return;
  }
  await gh.request("POST /repos/{owner}/{repo}/check-runs", { owner, repo, name, head_sha: sha, external_id: run.build.id, ...body });
}

/** The deploy's notes (bounded: each is ours, but names come from the repo's config). */
function notesOf(deploy: DeployReport): string[] {
  return (deploy.notes ?? []).slice(0, 5).map((n) => `⚠️ ${n.slice(0, 2000)}`);
}
