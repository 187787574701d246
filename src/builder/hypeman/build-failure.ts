import type { Hypeman } from "@onkernel/hypeman";
import type { LogLine } from "../builder.ts";
import { cancelledError, infraError, timeoutError, userError, type MicroshipError } from "../../core/errors.ts";
import { budFailure } from "../host/bud-failure.ts";

const OURS = "This is a fault of the build service, not of the repository; the operator has been told.";

/**
 * A build Hypeman ended as failed or cancelled, as a typed error. The server's `error` string is
 * all it says about why: "buildctl failed" is the Dockerfile's fault, a builder VM that stopped
 * is ours, and a context deadline is the build's own timeout when the build ran that long.
 */
export function buildFailure(b: Hypeman.Build, tail: readonly LogLine[], o: { timeoutSeconds: number; elapsedMs: number }): MicroshipError {
  const error = b.error?.trim() ?? "";
  if (b.status === "cancelled") {
    return cancelledError("The build was cancelled on the Hypeman server.", { title: "Build cancelled", hint: "Someone with access to the Hypeman server cancelled it; push again or re-run the check." });
  }
  if (/context deadline exceeded/i.test(error)) {
    const ran = Math.max(o.elapsedMs, b.duration_ms ?? 0);
    if (ran >= o.timeoutSeconds * 1000 * 0.9) {
      return timeoutError(`The build took longer than its ${o.timeoutSeconds} s limit.`, {
        title: `Build timed out after ${o.timeoutSeconds} s`,
        hint: "Make the build faster, or raise `timeout` in .github/microship.yml.",
      });
    }
    return infraError(`The Hypeman server gave up on the build after ${Math.round(ran / 1000)} s: ${error}`, { title: "Hypeman timed out", hint: OURS });
  }
  if (/builder instance stopped unexpectedly/i.test(error)) {
    return infraError(`The Hypeman builder VM stopped unexpectedly (${error}).`, { title: "Builder VM died", hint: OURS });
  }
  if (/buildctl failed/i.test(error)) return stepFailure(tail, error);
  return infraError(`The Hypeman server failed the build: ${error || "it gave no reason"}.`, { title: "Hypeman build failed", hint: OURS });
}

// BuildKit's plain progress ends a failed RUN with this line.
const PROCESS = /ERROR: (?:failed to solve: )?process "(.+)" did not complete successfully: exit code: (\d+)/;
const SOLVE = /^ERROR: failed to solve: (.+)$/;

/** The failing step, from BuildKit's lines when the log has them, else from buildah's. */
function stepFailure(tail: readonly LogLine[], error: string): MicroshipError {
  const texts = tail.map((l) => l.text);
  const proc = lastMatch(texts, PROCESS);
  if (proc) {
    const command = proc[1]!.replace(/^\/bin\/sh -c /, "");
    return userError(`RUN ${command} failed with exit code ${proc[2]}.`, {
      title: "Build step failed",
      hint: `Fix the command \`${command}\`; the lines just above the failure in the log say why.`,
    });
  }
  const solve = lastMatch(texts, SOLVE);
  if (solve) {
    const pull = /not found|manifest unknown|pull access denied|unauthorized|failed to resolve source metadata/i.test(solve[1]!);
    return userError(pull ? `The base image could not be pulled: ${solve[1]}` : `The build failed: ${solve[1]}`, {
      title: pull ? "Base image not found" : "Build failed",
      hint: pull ? "Check that the FROM line (or `base_image` in .github/microship.yml) names an image the builder can pull." : "The log shows what failed.",
    });
  }
  // Servers whose builder runs buildah (and our fake) log buildah's STEP lines instead.
  if (texts.some((t) => /STEP \d+\/\d+: |^(Error|error)[: ]/.test(t))) return budFailure(tail, exitCode(error));
  return userError(`The build failed: ${error}.`, { title: "Build failed", hint: "The log shows what failed." });
}

function exitCode(error: string): number | null {
  const m = /exit (?:status|code):? (\d+)/.exec(error);
  return m ? Number(m[1]) : null;
}

function lastMatch(texts: readonly string[], re: RegExp): RegExpExecArray | null {
  for (let i = texts.length - 1; i >= 0; i--) {
    const m = re.exec(texts[i]!);
    if (m) return m;
  }
  return null;
}
