import { resolve } from "node:path";
import { planDirectory, directoryPlanJson } from "../../detect/plan-directory.ts";
import { renderDetectionStory } from "../../detect/story.ts";
import type { PlanOutcome } from "../../core/ports.ts";

/**
 * `microship plan <dir> [--json]`: what would be built, without GitHub. With --json it prints
 * exactly one object: the plan of a single-app repo, or `{ "apps": [...] }` when the config has
 * `builds`. A repo that can't be built prints `{ "error": { kind, message, ... } }` and exits 2.
 */
export async function planCommand(args: string[]): Promise<number> {
  const json = args.includes("--json");
  const dir = resolve(args.find((a) => !a.startsWith("--")) ?? ".");
  const result = await planDirectory(dir, { baseImageMirror: process.env.MICROSHIP_BASE_IMAGE_MIRROR ?? null });
  if (json) process.stdout.write(`${JSON.stringify(directoryPlanJson(result), null, 2)}\n`);
  else for (const o of result.outcomes) process.stdout.write(`${toText(o)}\n`);
  return result.outcomes.every((o) => o.ok) ? 0 : 2;
}

function toText(o: PlanOutcome): string {
  if (!o.ok) {
    const loc = o.error.location ? ` (${o.error.location.file}${o.error.location.line ? `:${o.error.location.line}` : ""})` : "";
    return [`✗ ${o.app ? `${o.app}: ` : ""}${o.error.title ?? "Cannot build"}${loc}`, `  ${o.error.message}`, o.error.hint ? `  fix: ${o.error.hint}` : ""].filter(Boolean).join("\n");
  }
  return [`✓ ${o.plan.app ?? "app"}${o.plan.root !== "." ? ` (${o.plan.root})` : ""}`, renderDetectionStory(o.plan), "", "--- Dockerfile ---", o.plan.dockerfile].join("\n");
}
