import type { DeployInput, LiveDeployment } from "../../core/deployer.ts";
import { userError, type MicroshipError } from "../../core/errors.ts";
import type { DeployVm } from "./deploy-vm.ts";

/** The deployer's own record of one VM: what list() reports, rebuilt from the deploy's input. */
export interface VmRecord extends Omit<DeployInput, "signal" | "log" | "env"> {
  /** The deployment's host label (the route). */
  name: string;
  instance: string;
  vm: DeployVm;
  createdAt: Date;
  state: LiveDeployment["state"];
  /** Set when microship stops it, so its exit isn't reported as a failure. */
  stopping: boolean;
}

/** A record as list() reports it. */
export function liveOf(r: VmRecord, url: string): LiveDeployment {
  return {
    owner: r.owner, repo: r.repo, app: r.app, target: r.target, installationId: r.installationId, sha: r.sha, instance: r.instance,
    url, imageRef: r.imageRef, digest: r.digest, createdAt: r.createdAt, expiresAt: r.expiresAt, state: r.state,
  };
}

const TAIL_SHOWN = 15;

/** The user's error for a new version that never got healthy: the path, the port, and what the app printed last. */
export function healthFailure(input: Pick<DeployInput, "health" | "port" | "env">, why: string, tail: string): MicroshipError {
  let shown = tail.split("\n").slice(-TAIL_SHOWN).join("\n");
  // The app may print its env; the deploy's values (secrets among them) never reach the build log.
  for (const v of Object.values(input.env)) if (v.length >= 4) shown = shown.split(v).join("***");
  return userError(`The new version did not pass its health check (GET ${input.health} on port ${input.port}): ${why}. The previous version keeps serving.${shown.trim() ? `\nLast output of the VM:\n${shown}` : ""}`, {
    title: "Deploy failed",
    hint: `Make the app listen on $PORT (${input.port}) on all addresses and answer ${input.health} with 2xx, or set deploy.port and deploy.health in .github/microship.yml.`,
  });
}
