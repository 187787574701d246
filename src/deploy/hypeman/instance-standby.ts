import { APIError, type Hypeman } from "@onkernel/hypeman";
import { InstanceNotFoundError, type InstanceKey, type LiveDeployment } from "../../core/deployer.ts";
import { userError } from "../../core/errors.ts";
import { stateOf } from "./deployment-tags.ts";

type State = LiveDeployment["state"];

/**
 * Sleep on Hypeman is its standby (the VM paused, snapshotted, its VMM gone); wake is restore
 * from that snapshot. `found` is the instance as list() reported it, so only microship's own
 * instances of the repository are touched; both are idempotent, as the Deployer port asks.
 */
export async function standby(client: Hypeman, key: InstanceKey, found: LiveDeployment, signal: AbortSignal): Promise<State> {
  if (found.state === "sleeping") return found.state;
  if (found.state !== "running") throw userError(`${found.instance} is ${found.state}; only a running instance can sleep.`);
  try {
    return stateOf(await client.instances.standby(found.instance, {}, { signal }));
  } catch (err) {
    throw refused(err, key, "put it in standby");
  }
}

export async function restore(client: Hypeman, key: InstanceKey, found: LiveDeployment, signal: AbortSignal): Promise<State> {
  if (found.state === "running" || found.state === "starting") return found.state;
  if (found.state !== "sleeping") throw userError(`${found.instance} is ${found.state}; only a sleeping instance can wake up. Deploy it again instead.`);
  try {
    return stateOf(await client.instances.restore(found.instance, { signal }));
  } catch (err) {
    throw refused(err, key, "restore it");
  }
}

/** Hypeman's 404 (deleted meanwhile) and 409 (not in a state for it), in the user's words; anything else as it is. */
function refused(err: unknown, key: InstanceKey, doing: string): unknown {
  if (!(err instanceof APIError)) return err;
  if (err.status === 404) return new InstanceNotFoundError(key);
  if (err.status !== 409) return err;
  const said = (err.error as { message?: unknown } | undefined)?.message;
  return userError(`Hypeman would not ${doing}: ${typeof said === "string" ? said.slice(0, 300) : "its state does not allow it"}.`);
}
