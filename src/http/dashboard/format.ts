import type { BuildRecord } from "../../core/build.ts";

/** Small pure formatters the templates call; the templates escape what these return. */

const valid = (ms: number | null | undefined): ms is number => typeof ms === "number" && Number.isFinite(ms) && Math.abs(ms) < 8.64e15;

export function when(ms: number | null | undefined): string {
  return valid(ms) ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z" : "";
}

export function iso(ms: number | null | undefined): string {
  return valid(ms) ? new Date(ms).toISOString() : "";
}

export function duration(ms: number | null | undefined): string {
  if (!valid(ms) || ms < 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The build's run time: to now while it runs. */
export function buildDuration(b: BuildRecord, now = Date.now()): string {
  if (b.startedAt === null) return "";
  return duration((b.completedAt ?? now) - b.startedAt);
}

/** One word for the state column: the conclusion once it has one. */
export function stateOf(b: BuildRecord): string {
  if (b.state !== "completed") return b.cancelRequested ? "cancelling" : b.state;
  return b.conclusion ?? "completed";
}

export function refOf(b: BuildRecord): string {
  const { pr, branch } = b.request;
  if (pr) return `PR #${pr.number} (${pr.headRef})`;
  return branch ?? "";
}

export const shortSha = (sha: string) => sha.slice(0, 7);

/** registry/owner/repo@sha256:0123456789ab: the name and enough of the digest to tell builds apart. */
export function shortImage(ref: string): string {
  const at = ref.indexOf("@sha256:");
  return at < 0 ? ref : ref.slice(0, at + 20);
}
