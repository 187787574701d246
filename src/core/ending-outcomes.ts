import type { BuildOutcome, BuildRecord } from "./build.ts";
import { emptyOutcome } from "./build.ts";
import type { Store } from "./store.ts";

/** The outcomes of builds that end without their stages saying how: stopped, replaced or lost. */

/** A build stopped before it ran: replaced by `newer`, or cancelled (a closed PR says why in `reason`). */
export function cancelledOutcome(newer: BuildRecord | null, reason: string | null = null): BuildOutcome {
  return {
    ...emptyOutcome("cancelled", newer ? "Superseded by a newer build" : "Build cancelled"),
    supersededBy: newer ? { buildId: newer.id, sha: newer.request.sha } : null,
    skippedReason: reason,
  };
}

/** A second run opened for one build (see Store.setCheckRunId): it ends at once, pointing at the run that carries the build. */
export function duplicateRunOutcome(keptRunId: number): BuildOutcome {
  return { ...emptyOutcome("skipped", "Duplicate run"), skippedReason: `this build's check run was opened twice while microship's database was unreachable; run ${keptRunId} carries the build` };
}

/** A build whose workers kept dying under it: concluded, not resumed again. */
export function interruptedOutcome(build: BuildRecord): BuildOutcome {
  if (build.cancelRequested) return emptyOutcome("cancelled", "Build cancelled");
  return {
    ...emptyOutcome("neutral", "Build interrupted"),
    error: {
      kind: "infra",
      message: `The build was interrupted ${build.tries} times (the builder or microship stopped while it ran).`,
      hint: "Re-run the check to build this commit again.",
      location: null,
    },
  };
}

/** A running build cancelled because a newer one replaced it says which one. */
export async function withSupersede(id: string, outcome: BuildOutcome, store: Store): Promise<BuildOutcome> {
  const fresh = await store.getBuild(id);
  if (!fresh?.supersededBy) return outcome;
  const newer = await store.getBuild(fresh.supersededBy);
  return {
    ...outcome,
    title: "Superseded by a newer build",
    supersededBy: newer ? { buildId: newer.id, sha: newer.request.sha } : null,
    error: outcome.error && { ...outcome.error, message: "A newer build replaced this one." },
  };
}
