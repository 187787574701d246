import { infraError, userError, type MicroshipError } from "../../core/errors.ts";

/** The SDK's API errors as ours: a rejected request is the operator's to fix, never the repo's. */
export function hypemanApiError(err: unknown, baseURL: string): MicroshipError {
  const e = err as { status?: number; error?: { code?: string; message?: string }; message?: string };
  const host = new URL(baseURL).host;
  if (e.status === 401 || e.status === 403) {
    return infraError(`Hypeman at ${host} refused microship's credentials (${e.status}).`, { title: "Hypeman refused the credentials", hint: "Set HYPEMAN_API_KEY to a valid token for this server." });
  }
  if (e.status === 400 || e.status === 422) {
    return userError(`Hypeman rejected the build: ${e.error?.message ?? e.message ?? "bad request"}`, { title: "Build rejected", hint: "The source archive or Dockerfile was not accepted; the message says why." });
  }
  if (typeof e.status === "number") return infraError(`Hypeman at ${host} answered ${e.status}: ${e.error?.message ?? e.message ?? ""}`.trim(), { title: "Hypeman unavailable" });
  return infraError(`Hypeman at ${host} can't be reached: ${e.message ?? String(err)}`, { title: "Hypeman unreachable" });
}
