import { resolve } from "node:path";
import { planApps } from "../../detect/registry.ts";
import { loadRepoConfigFromDir } from "../../detect/load-repo-config.ts";
import { renderDetectionStory } from "../../detect/story.ts";
import type { PlanOutcome } from "../../core/ports.ts";
import type { BuildPlan } from "../../core/types.ts";

/**
 * `microship plan <dir> [--json]`: what would be built, without GitHub. With --json it prints
 * exactly one object: the plan of a single-app repo, or `{ "apps": [...] }` when the config has
 * `builds`. A repo that can't be built prints `{ "error": { kind, message, ... } }` and exits 2.
 */
export async function planCommand(args: string[]): Promise<number> {
  const json = args.includes("--json");
  const dir = resolve(args.find((a) => !a.startsWith("--")) ?? ".");
  const config = await loadRepoConfigFromDir(dir);
  const outcomes: PlanOutcome[] = config && !config.ok
    ? [{ ok: false, app: null, error: config.error }]
    : await planApps(dir, config?.config ?? null, { baseImageMirror: process.env.MICROSHIP_BASE_IMAGE_MIRROR ?? null });
  const multi = Boolean(config?.ok && config.config.builds);
  if (json) {
    const items = outcomes.map(toJson);
    process.stdout.write(`${JSON.stringify(multi ? { apps: items } : items[0], null, 2)}\n`);
  } else {
    for (const o of outcomes) process.stdout.write(`${toText(o)}\n`);
  }
  return outcomes.every((o) => o.ok) ? 0 : 2;
}

function toJson(o: PlanOutcome): Record<string, unknown> {
  if (!o.ok) {
    return { ...(o.app ? { app: o.app } : {}), error: { kind: o.error.kind, message: o.error.message, title: o.error.title ?? null, hint: o.error.hint ?? null, location: o.error.location ?? null } };
  }
  const p: BuildPlan = o.plan;
  return {
    app: p.app, root: p.root, runtime: p.runtime, version: p.version, packageManager: p.packageManager, installCommand: p.installCommand,
    buildCommand: p.buildCommand, startCommand: p.startCommand, cacheFiles: p.cacheFiles, dockerfilePath: p.dockerfilePath,
    dockerfile: p.dockerfile, dockerignore: p.dockerignore, messages: p.messages,
  };
}

function toText(o: PlanOutcome): string {
  if (!o.ok) {
    const loc = o.error.location ? ` (${o.error.location.file}${o.error.location.line ? `:${o.error.location.line}` : ""})` : "";
    return [`✗ ${o.app ? `${o.app}: ` : ""}${o.error.title ?? "Cannot build"}${loc}`, `  ${o.error.message}`, o.error.hint ? `  fix: ${o.error.hint}` : ""].filter(Boolean).join("\n");
  }
  return [`✓ ${o.plan.app ?? "app"}${o.plan.root !== "." ? ` (${o.plan.root})` : ""}`, renderDetectionStory(o.plan), "", "--- Dockerfile ---", o.plan.dockerfile].join("\n");
}
