type Json = Record<string, any>;
type Send = (status: number, body?: unknown) => void;
type Fail = (status: number, code: string, message: string) => void;

/**
 * POST /instances/{id}/standby and /restore, as Hypeman's API describes them: standby only from
 * Running (the VM paused, snapshotted, its VMM gone: `Standby`, with a snapshot), restore only
 * from Standby (Running again); any other state is a 409 `invalid_state`, as the server answers.
 * Health is left as it was: nothing says a restore resets it.
 */
export function instanceAction(instance: Json, action: "standby" | "restore", send: Send, fail: Fail): void {
  const from = action === "standby" ? "Running" : "Standby";
  if (instance.state !== from) return fail(409, "invalid_state", `invalid state: cannot ${action} from state ${instance.state}`);
  const now = new Date().toISOString();
  if (action === "standby") Object.assign(instance, { state: "Standby", stopped_at: now, has_snapshot: true });
  else Object.assign(instance, { state: "Running", started_at: now, stopped_at: null });
  send(200, instance);
}
