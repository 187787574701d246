import type { BuildOutcome, BuildRecord } from "../../core/build.ts";
import { PHASES } from "../../core/stages/stage-list.ts";
import { headWithinBytes } from "./truncate.ts";
import { renderDeploy } from "./render-deploy.ts";

const ICON: Record<string, string> = {
  success: "✅",
  failure: "❌",
  neutral: "⚠️",
  cancelled: "⏹️",
  timed_out: "⏱️",
  skipped: "⏭️",
  action_required: "✋",
};

export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** The check run's summary: enough for a stranger to fix their build without opening anything else. */
export function renderSummary(build: BuildRecord, outcome: BuildOutcome, detailsUrl: string): string {
  const out: string[] = [];
  const { request } = build;
  out.push(`${ICON[outcome.conclusion] ?? ""} **${outcome.title}** — \`${request.sha.slice(0, 12)}\`${request.branch ? ` on \`${request.branch}\`` : ""}${request.pr ? ` (PR #${request.pr.number}${request.pr.fork ? ", from a fork" : ""})` : ""}`);

  if (outcome.error) {
    out.push("", "### What went wrong", "", outcome.error.message);
    if (outcome.error.location) {
      const { file, line, column } = outcome.error.location;
      out.push("", `In \`${file}\`${line ? ` at line ${line}${column ? `, column ${column}` : ""}` : ""}.`);
    }
    if (outcome.error.hint) out.push("", "### How to fix it", "", outcome.error.hint);
    if (outcome.error.kind === "infra") out.push("", "This was a fault on microship's side, not in your code. The operator has been alerted; re-run the check to try again.");
  }
  if (outcome.supersededBy) out.push("", `A newer commit replaced this one: build of \`${outcome.supersededBy.sha.slice(0, 12)}\`.`);
  if (outcome.skippedReason) out.push("", `Nothing was built: ${outcome.skippedReason}.`);

  if (outcome.image) {
    const img = outcome.image;
    out.push("", "### Image", "", "```", img.ref, "```");
    out.push(`- Digest: \`${img.digest}\``);
    out.push(`- Tags: ${img.tags.map((t) => `\`${img.name}:${t}\``).join(", ")}`);
    if (img.sizeBytes != null) out.push(`- Size: ${formatBytes(img.sizeBytes)}`);
  }
  out.push(...renderDeploy(outcome.deploy));
  if (outcome.detection || outcome.runtime) {
    out.push("", "### What microship detected", "", outcome.detection ?? `Runtime: \`${outcome.runtime}\``);
  }
  const warnings = outcome.messages.filter((m) => m.level !== "info");
  if (warnings.length > 0) {
    out.push("", "### Warnings", "");
    for (const m of warnings) out.push(`- ${m.file ? `\`${m.file}\`${m.line ? `:${m.line}` : ""}: ` : ""}${m.text}`);
  }
  const timed = timedPhases(outcome.phases);
  if (timed.length > 0) {
    out.push("", "### Timings", "", `| ${timed.map(([p]) => p).join(" | ")} |`, `|${timed.map(() => "---").join("|")}|`, `| ${timed.map(([, ms]) => formatMs(ms)).join(" | ")} |`);
  }
  if (outcome.archive) out.push("", `Source: ${outcome.archive.fileCount} files, ${formatBytes(outcome.archive.sizeBytes)}.`);
  if (outcome.builder) out.push("", `Built by: ${outcome.builder}.`);
  if (request.pr?.fork) out.push("", "This build is from a fork: it got no secrets, and its cache is kept apart from the base repository's.");
  out.push("", `[Full log](${detailsUrl}) · Re-run from the Checks tab, or comment \`/rebuild\` on the pull request.`);
  return headWithinBytes(out.join("\n"));
}

/** The stage list's phases in its order, then any other a stage timed (a list a test extended). */
function timedPhases(phases: Record<string, number | undefined>): [string, number][] {
  const known = new Set<string>(PHASES);
  const names = [...PHASES, ...Object.keys(phases).filter((p) => !known.has(p))];
  return names.flatMap((p) => (phases[p] != null ? [[p, phases[p]] as [string, number]] : []));
}

export function renderRunningSummary(build: BuildRecord, builder: string | null, phase: string, detailsUrl: string): string {
  return [
    `🔨 Building \`${build.request.sha.slice(0, 12)}\` — now: **${phase}**.`,
    ...(builder ? ["", `Built by: ${builder}.`] : []),
    "",
    `The log's tail is below and refreshes every few seconds. [Live full log](${detailsUrl}).`,
  ].join("\n");
}
