import type { PlanOutcome } from "../core/ports.ts";
import type { BuildPlan } from "../core/types.ts";
import { loadRepoConfigFromDir } from "./load-repo-config.ts";
import { planApps, type PlanOptions } from "./provider-list.ts";

export interface DirectoryPlan {
  outcomes: PlanOutcome[];
  /** True when the config has `builds`: one outcome per app, reported as `{ apps: [...] }`. */
  multi: boolean;
}

/** What `microship plan <dir>` does: the repo config from the directory, then every app's plan. */
export async function planDirectory(dir: string, options: PlanOptions = {}): Promise<DirectoryPlan> {
  const config = await loadRepoConfigFromDir(dir);
  if (config && !config.ok) return { outcomes: [{ ok: false, app: null, error: config.error }], multi: false };
  return { outcomes: await planApps(dir, config?.config ?? null, options), multi: Boolean(config?.config.builds) };
}

/** The one JSON object `microship plan --json` prints. */
export function directoryPlanJson(result: DirectoryPlan): Record<string, unknown> {
  const items = result.outcomes.map(planOutcomeJson);
  return result.multi ? { apps: items } : items[0]!;
}

export function planOutcomeJson(o: PlanOutcome): Record<string, unknown> {
  if (!o.ok) {
    return { ...(o.app ? { app: o.app } : {}), error: { kind: o.error.kind, message: o.error.message, title: o.error.title ?? null, hint: o.error.hint ?? null, location: o.error.location ?? null } };
  }
  const p: BuildPlan = o.plan;
  return {
    app: p.app, root: p.root, ...(p.contextRoot ? { contextRoot: p.contextRoot } : {}), runtime: p.runtime, version: p.version, packageManager: p.packageManager, installCommand: p.installCommand,
    buildCommand: p.buildCommand, startCommand: p.startCommand, cacheFiles: p.cacheFiles, dockerfilePath: p.dockerfilePath,
    dockerfile: p.dockerfile, dockerignore: p.dockerignore, messages: p.messages,
  };
}
