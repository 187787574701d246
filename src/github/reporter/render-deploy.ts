import type { DeployReport } from "../../core/deployer.ts";

/** The deploy's part of the check run's summary: where it runs, or why it does not. */
export function renderDeploy(deploy: DeployReport | null | undefined): string[] {
  if (!deploy) return [];
  const notes = (deploy.notes ?? []).slice(0, 5).flatMap((n) => ["", `⚠️ ${n.slice(0, 2000)}`]);
  if (deploy.ok && deploy.url) return ["", "### Deploy", "", `✅ Deployed to **${deploy.environment}**: ${deploy.url}`, ...notes];
  return ["", "### Deploy", "", `❌ The deploy to **${deploy.environment}** failed (the image itself is fine; see the \`microship/deploy\` check): ${deploy.error ?? "no reason given"}`, ...notes];
}
