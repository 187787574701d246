import { randomBytes } from "node:crypto";
import type { DeployInput } from "../../core/deployer.ts";
import { startDeployVm, type DeployVmOptions } from "./deploy-vm.ts";
import { releaseFailure } from "./release-failure.ts";
import { ReleaseOutput } from "./release-output.ts";
import { NONCE_FILE, releaseScript } from "./release-script.ts";
import type { AppRuntime } from "./run-script.ts";

/** How long deploy.release may run, boot included, unless the deployer is told otherwise. */
export const RELEASE_TIMEOUT_MS = 600_000;

export interface ReleaseVmOptions {
  /** The app VM's options (image, disk, sandbox, sizes), less what a release VM sets itself. */
  vm: Omit<DeployVmOptions, "runScript" | "configFiles" | "deadlineMs" | "onLine">;
  runtime: AppRuntime;
  input: DeployInput & { release: string };
  /** Aborting kills the VM (the deploy's signal, or the deployer shutting down). */
  signal: AbortSignal;
  timeoutMs?: number;
}

/**
 * `deploy.release` on the microvm deployer: a one-off microVM boots the new image's app disk (an
 * overlay of it, thrown away after), runs the command as release-script.ts says, streams its
 * output into the build log and powers off. Only the marker line with this run's random nonce
 * reports the exit code; anything else (a non-zero code, the time limit, a VM that ended without
 * the marker) throws a user error before any app VM starts, so the old version keeps serving.
 */
export async function runReleaseVm(o: ReleaseVmOptions): Promise<void> {
  const { input } = o;
  const timeoutMs = o.timeoutMs ?? RELEASE_TIMEOUT_MS;
  const command = input.release;
  const nonce = randomBytes(24).toString("hex");
  const out = new ReleaseOutput({ nonce, env: input.env, log: (l) => input.log(l) });
  o.signal.throwIfAborted();
  input.log(`Running the release command: ${command}`);
  const vm = await startDeployVm({
    ...o.vm, runScript: releaseScript(o.runtime, input.env, input.port, command), configFiles: { [NONCE_FILE]: `${nonce}\n` },
    deadlineMs: timeoutMs, onLine: (l) => out.line(l),
  });
  const kill = () => void vm.stop();
  o.signal.addEventListener("abort", kill, { once: true });
  if (o.signal.aborted) kill();
  try {
    const outcome = await vm.exited;
    out.flush();
    o.signal.throwIfAborted();
    const failure = releaseFailure(command, out.exitCode, outcome, timeoutMs, out.lastLines());
    if (failure) throw failure;
    input.log("The release command succeeded.");
  } finally {
    o.signal.removeEventListener("abort", kill);
    await vm.stop();
  }
}
