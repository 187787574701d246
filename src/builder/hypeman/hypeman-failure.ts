import type { LogLine } from "../../core/builder.ts";
import { budFailure } from "../buildah/bud-failure.ts";
import { infraError, userError, type MicroshipError } from "../../core/errors.ts";
import { buildTimedOut } from "../build-run.ts";

// Hypeman's own side failed: the builder VM, its plumbing, the server's registry.
const INFRA = /builder instance stopped unexpectedly|context deadline exceeded|failed to (start|create) (the )?builder|no space left on device|instance .* (exited|crashed)|internal error/i;
const TIMEOUT = /timed? ?out|timeout exceeded|deadline of \d+/i;
// BuildKit names the failing step like this, where buildah says "STEP n/m".
const BUILDKIT_STEP = /^#\d+ \[(?:[\w.-]+ )?\d+\/\d+\] (.+)$/;
const BUILDKIT_EXIT = /did not complete successfully: exit code: (\d+)/;

/**
 * A failed Hypeman build as a typed error, from its `error` string and the log's tail. "buildctl
 * failed" is the repository's fault; a builder VM that died, or a deadline in Hypeman's own
 * plumbing, is ours. A deadline is the build's timeout only when the build ran that long.
 */
export function hypemanFailure(error: string | null, tail: readonly LogLine[], o: { ranMs: number; timeoutSeconds: number }): MicroshipError {
  const message = error ?? "the build failed without an error message";
  const reachedDeadline = o.ranMs >= o.timeoutSeconds * 1000 - 1000;
  if (TIMEOUT.test(message) || (/context deadline exceeded/i.test(message) && reachedDeadline)) {
    return buildTimedOut(o.timeoutSeconds);
  }
  if (INFRA.test(message)) {
    return infraError(`The Hypeman builder failed: ${message}`, { title: "Builder failed", hint: "This is a fault of the build service, not of the repository; re-run the build." });
  }
  const step = buildkitStep(tail);
  if (step) {
    return userError(`${step.instruction} failed${step.exitCode ? ` with exit code ${step.exitCode}` : ""}.`, {
      title: "Build step failed",
      hint: /^RUN /i.test(step.instruction)
        ? `Fix the command \`${step.instruction.slice(4)}\`; the lines just above the failure in the log say why.`
        : `Fix \`${step.instruction}\` in the Dockerfile; the log says why.`,
    });
  }
  // Servers that run buildah rather than BuildKit print its step lines.
  const bud = budFailure(tail, null);
  return bud.title === "Build failed" ? userError(message, { title: "Build failed", hint: "The log shows what failed." }) : bud;
}

function buildkitStep(tail: readonly LogLine[]): { instruction: string; exitCode: string | null } | null {
  let instruction: string | null = null;
  let exitCode: string | null = null;
  for (const l of tail) {
    const s = BUILDKIT_STEP.exec(l.text);
    if (s) instruction = s[1]!;
    const e = BUILDKIT_EXIT.exec(l.text);
    if (e) exitCode = e[1]!;
  }
  return instruction && exitCode ? { instruction, exitCode } : null;
}
