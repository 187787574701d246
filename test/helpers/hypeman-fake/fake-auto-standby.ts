type Json = Record<string, any>;
type Send = (status: number, body?: unknown) => void;
type Fail = (status: number, code: string, message: string) => void;

/**
 * Hypeman's auto-standby, as @onkernel/hypeman's types and Hypeman's lib/autostandby describe it:
 * the `auto_standby` policy of an instance create, `GET /instances/{id}/auto-standby/status` and
 * `POST /instances/{id}/auto-standby/hold`. The fake can't watch conntrack, so the controller is a
 * test hook (`idle`): "this instance has had no inbound connection for its idle_timeout".
 */

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A Go duration (`90s`, `1h30m`, `1.5m`) in ms; null when it isn't one or isn't positive. */
export function goDurationMs(text: unknown): number | null {
  if (typeof text !== "string" || text.length === 0 || text.length > 64) return null;
  let total = 0, i = 0;
  while (i < text.length) {
    let j = i;
    while (j < text.length && ((text[j]! >= "0" && text[j]! <= "9") || text[j] === ".")) j++;
    const n = Number(text.slice(i, j));
    let k = j;
    while (k < text.length && !(text[k]! >= "0" && text[k]! <= "9") && text[k] !== ".") k++;
    const unit = UNITS[text.slice(j, k)];
    if (j === i || !Number.isFinite(n) || unit === undefined) return null;
    total += n * unit;
    i = k;
  }
  return total > 0 ? total : null;
}

/** Why a create's `auto_standby` would be refused with a 400; null when it is valid. */
export function autoStandbyProblem(policy: unknown): string | null {
  if (policy === undefined) return null;
  if (!policy || typeof policy !== "object" || Array.isArray(policy)) return "auto_standby must be an object";
  const p = policy as Json;
  if (p.enabled !== undefined && typeof p.enabled !== "boolean") return "auto_standby.enabled must be a boolean";
  if (p.idle_timeout !== undefined && goDurationMs(p.idle_timeout) === null) return `auto_standby.idle_timeout: invalid duration ${JSON.stringify(p.idle_timeout)}`;
  if (p.enabled && p.idle_timeout === undefined) return "auto_standby.idle_timeout is required when enabled";
  const ports = p.ignore_destination_ports;
  if (ports !== undefined && !(Array.isArray(ports) && ports.every((x) => Number.isInteger(x) && x >= 1 && x <= 65_535))) return "auto_standby.ignore_destination_ports must be ports";
  const cidrs = p.ignore_source_cidrs;
  if (cidrs !== undefined && !(Array.isArray(cidrs) && cidrs.every((c) => typeof c === "string" && /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(c)))) return "auto_standby.ignore_source_cidrs must be IPv4 CIDRs";
  return null;
}

/** The AutoStandbyStatus of an instance at `now`, with its hold (ms since epoch) if one is on. */
export function autoStandbyStatus(instance: Json, holdUntil: number | undefined, now: number): Json {
  const p = instance.auto_standby as Json | undefined;
  const held = holdUntil !== undefined && holdUntil > now ? new Date(holdUntil).toISOString() : null;
  const base = { active_inbound_connections: 0, configured: Boolean(p), enabled: Boolean(p?.enabled), supported: true, tracking_mode: "conntrack_events_v4_tcp", idle_timeout: p?.idle_timeout ?? null, hold_until: held };
  if (!p) return { ...base, eligible: false, status: "disabled", reason: "policy_missing" };
  if (!p.enabled) return { ...base, eligible: false, status: "disabled", reason: "policy_disabled" };
  if (instance.state !== "Running") return { ...base, eligible: false, status: "ineligible", reason: "instance_not_running" };
  return { ...base, eligible: true, status: "idle_countdown", reason: "idle_timeout_not_elapsed" };
}

/**
 * A hold until `now + idle_timeout`, replacing the last one. Without an enabled policy: 200 and
 * the status, no hold (no standby will come). In Standby: 409, as the API documents.
 */
export function holdAutoStandby(instance: Json, holds: Map<string, number>, now: number, send: Send, fail: Fail): void {
  const p = instance.auto_standby as Json | undefined;
  if (!p?.enabled) return send(200, autoStandbyStatus(instance, undefined, now));
  if (instance.state === "Standby") return fail(409, "invalid_state", `instance ${instance.name} is in standby; restore it first`);
  holds.set(instance.id, now + goDurationMs(p.idle_timeout)!);
  send(200, autoStandbyStatus(instance, holds.get(instance.id), now));
}

/** The controller's part: standby once idle past the timeout, only with an enabled policy, while Running and not held. */
export function idlePastTimeout(instance: Json, holdUntil: number | undefined, now: number): boolean {
  if (!instance.auto_standby?.enabled || instance.state !== "Running" || (holdUntil !== undefined && holdUntil > now)) return false;
  Object.assign(instance, { state: "Standby", stopped_at: new Date(now).toISOString(), has_snapshot: true });
  return true;
}
