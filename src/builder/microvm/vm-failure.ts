import type { LogLine } from "../../core/builder.ts";
import type { OpLog } from "../../core/ports.ts";
import { infraError, userError, type MicroshipError } from "../../core/errors.ts";
import { budFailure } from "../buildah/bud-failure.ts";
import { buildTimedOut } from "../build-run.ts";
import type { VmOutcome } from "./run-vm.ts";

/** The guest agent's own verdict on a build that failed, as a typed error. */
export function agentFailure(kind: "user" | "infra" | "timeout", error: string, tail: readonly LogLine[], timeoutSeconds: number): MicroshipError {
  if (kind === "timeout") return buildTimedOut(timeoutSeconds);
  if (kind === "user") {
    const status = /status (\d+)/.exec(error)?.[1];
    const e = budFailure(tail, status ? Number(status) : null);
    return e.kind === "user" || e.kind === "infra" ? e : userError(error);
  }
  return infraError(`The builder VM reported: ${error}`, { title: "Builder VM failed" });
}

const HOST_FAULT = "This is a fault of the build host, not of the repository; the operator has been told.";

/** The VM ended, or was killed at the deadline, without a result: never the repo's fault. */
export function lostVm(outcome: VmOutcome, limits: { deadlineMs: number; bootDeadlineMs: number; bootAttempts: number }, log: OpLog | undefined, buildId: string): MicroshipError {
  log?.error({ buildId, exitCode: outcome.exitCode, killedBy: outcome.killedBy, problem: outcome.problem, qemu: outcome.stderrTail }, "builder VM ended without a result");
  if (outcome.problem) return infraError(`The builder VM sent an invalid result: ${outcome.problem}.`, { title: "Builder VM failed" });
  if (outcome.killedBy === "boot") {
    return infraError(`The builder VM did not boot within ${Math.round(limits.bootDeadlineMs / 1000)} s, ${limits.bootAttempts} times, and was stopped.`, { title: "Builder VM did not boot", hint: HOST_FAULT });
  }
  if (outcome.killedBy === "deadline") {
    return infraError(`The builder VM did not report within ${Math.round(limits.deadlineMs / 1000)} s and was stopped.`, { title: "Builder VM hung", hint: HOST_FAULT });
  }
  return infraError(`The builder VM stopped without reporting a result (QEMU exit ${outcome.exitCode ?? "by signal"}).`, { title: "Builder VM died", hint: HOST_FAULT });
}
