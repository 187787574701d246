import type { BuildOutcome } from "./build.ts";
import { emptyOutcome } from "./build.ts";
import type { Conclusion } from "./types.ts";
import { toMicroshipError } from "./errors.ts";

/** Maps any failure to what the check run concludes: the user's fault fails, ours is neutral. */
export function outcomeFromError(err: unknown, base: Partial<BuildOutcome> = {}): BuildOutcome {
  const e = toMicroshipError(err);
  const conclusion: Conclusion =
    e.kind === "user" ? "failure" : e.kind === "timeout" ? "timed_out" : e.kind === "cancelled" ? "cancelled" : "neutral";
  const title =
    e.title ??
    (e.kind === "user"
      ? "Build failed"
      : e.kind === "timeout"
        ? "Build timed out"
        : e.kind === "cancelled"
          ? "Build cancelled"
          : "microship could not finish this build");
  return {
    ...emptyOutcome(conclusion, title),
    ...base,
    conclusion,
    title,
    error: { kind: e.kind, message: e.message, hint: e.hint ?? null, location: e.location ?? null },
  };
}

const SEVERITY: Conclusion[] = ["success", "skipped", "neutral", "cancelled", "timed_out", "action_required", "failure"];

/** The main run of a multi-app repo concludes with its worst app. */
export function worstConclusion(conclusions: Conclusion[]): Conclusion {
  return conclusions.reduce<Conclusion>((worst, c) => (SEVERITY.indexOf(c) > SEVERITY.indexOf(worst) ? c : worst), "success");
}
