import type { VmOutcome } from "../../builder/microvm/run-vm.ts";
import { userError, type MicroshipError } from "../../core/errors.ts";

const HINT = "deploy.release runs with /bin/sh -c in the new image, with the app's environment; make it exit 0.";

/**
 * Why a release VM failed, in the Hypeman deployer's words (hypeman/release-command.ts), with the
 * command's last lines (already masked); null when the command exited 0.
 */
export function releaseFailure(command: string, exitCode: number | null, outcome: Pick<VmOutcome, "killedBy">, timeoutMs: number, last: string): MicroshipError | null {
  if (exitCode === 0) return null;
  const tail = last.trim() ? `\nLast output of the release command:\n${last}` : "";
  const keeps = "The previous version keeps serving.";
  if (exitCode === null && outcome.killedBy === "deadline") {
    return userError(`The release command \`${command}\` did not finish in ${Math.round(timeoutMs / 1000)} s. ${keeps}${tail}`, { title: "Release failed", hint: HINT });
  }
  const why = exitCode !== null
    ? `exit code ${exitCode}`
    : outcome.killedBy === "boot" ? "its microVM not booting in time" : "its microVM stopping before the command ended";
  return userError(`The release command \`${command}\` failed with ${why}. ${keeps}${tail}`, { title: "Release failed", hint: HINT });
}
