import type { DeployConfig } from "./deploy-config.ts";
import type { BuildPlan } from "../types.ts";

/** The command run once per deploy before traffic moves: the config's `deploy.release`, else the plan's (a Procfile `release:` line). */
export function releaseCommand(deploy: DeployConfig | undefined, plan: Pick<BuildPlan, "release">): string | null {
  return deploy?.release ?? plan.release ?? null;
}
