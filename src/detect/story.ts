import type { BuildPlan } from "../core/types.ts";

/** The detection story for the check summary: what was chosen, from which file, how to override. */
export function renderDetectionStory(plan: BuildPlan): string {
  const out: string[] = [];
  if (plan.runtime === "dockerfile") {
    out.push(`- **Dockerfile:** \`${plan.dockerfilePath}\`, used as it is.`);
  } else {
    out.push(`- **Runtime:** \`${plan.runtime}\`${plan.version ? ` — version ${plan.version.value} from ${plan.version.source}` : ""}`);
    if (plan.packageManager) out.push(`- **Package manager:** ${plan.packageManager.name} (from ${plan.packageManager.evidence})`);
    if (plan.installCommand) out.push(`- **Install:** \`${plan.installCommand}\``);
    if (plan.buildCommand) out.push(`- **Build:** \`${plan.buildCommand}\``);
    if (plan.startCommand) out.push(`- **Start:** \`${plan.startCommand}\``);
  }
  if (plan.root !== ".") out.push(`- **App root:** \`${plan.root}\``);
  if (plan.contextRoot && plan.contextRoot !== plan.root) out.push(`- **Built from:** \`${plan.contextRoot}\` (the workspace root)`);
  for (const m of plan.messages.slice(1)) out.push(`- ${m.level === "warning" ? "⚠️ " : ""}${m.text}`);
  out.push("", "To override: set `runtime`, `version`, `start` or `dockerfile` in `.github/microship.yml`, or add a Dockerfile. `npx microship plan .` shows this plan locally.");
  return out.join("\n");
}
