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

/** How long ago, in the largest unit that fits: "3 min", "2 h", "5 d". */
export function age(ms: number | null | undefined, now = Date.now()): string {
  if (!valid(ms)) return "";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return s < 86_400 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86_400)} d`;
}

/** A URL the page may link to: http(s) only, anything else shown as text. */
export const linkable = (url: string) => /^https?:\/\//i.test(url);

export function bytes(n: number | null | undefined): string {
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024, i++);
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
