import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { instanceAction } from "./fake-instance-actions.ts";
import { autoStandbyProblem, autoStandbyStatus, holdAutoStandby, idlePastTimeout } from "./fake-auto-standby.ts";

/**
 * Hypeman's images, instances and ingresses resources, as @onkernel/hypeman describes them:
 * images are pulled (pending → pulling → converting → ready|failed, advancing as they are read);
 * instances check Hypeman's name rule and uniqueness, run Initializing → Running, and report
 * health apart from state (starting → healthy|unhealthy); ingresses refuse a second rule for a
 * hostname. Nothing really runs: what the health check would find is the `unhealthy` fault.
 * A one-off instance (restart policy `never`, a `cmd`: how a release command runs) exits after
 * it boots, with the exit code and output `commands` gives it; GET /instances/{id}/logs serves
 * that output as Server-Sent Events whose data are JSON strings, as the SDK's Stream reads them.
 * Standby and restore move an instance Running ⇄ Standby, and refuse any other state with a 409
 * (fake-instance-actions.ts). An instance may carry an `auto_standby` policy, with its status and
 * holds (fake-auto-standby.ts); `idle` plays Hypeman's controller.
 */
export interface DeployFaults {
  /** Images (by name) whose pull fails. */
  failImages: Set<string>;
  /** Instances of these images never pass their health check. */
  unhealthy: Set<string>;
  /** The next N instance creates answer 500. */
  createErrors: number;
  /** Reads of a new instance before its health check decides. */
  healthAfterReads: number;
  /** Lists answer every record whatever the tags asked (an older server). */
  ignoreTagFilter: boolean;
  /**
   * What a one-off instance (restart policy `never`, a `cmd`) does, by its last `cmd` element:
   * its exit code and the output its logs then show. Unlisted commands exit 0 with one line.
   */
  commands: Map<string, { exitCode: number; output: string[] }>;
  /** Pulls of images whose name ends with one of these stay `pulling` until it is taken out. */
  holdPulls: Set<string>;
  /** The next N restores answer 500 (the snapshot would not load). */
  restoreErrors: number;
  /** While set, restores answer only once it resolves (a snapshot still loading). */
  restoreGate: Promise<void> | null;
}

type Json = Record<string, any>;
type Send = (status: number, body?: unknown) => void;
type Fail = (status: number, code: string, message: string) => void;

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const IMAGE_STEPS = ["pending", "pulling", "converting"] as const;

export class FakeDeployApi {
  readonly images = new Map<string, Json>();
  readonly instances = new Map<string, Json>();
  readonly ingresses = new Map<string, Json>();
  readonly faults: DeployFaults = { failImages: new Set(), unhealthy: new Set(), createErrors: 0, healthAfterReads: 2, ignoreTagFilter: false, commands: new Map(), holdPulls: new Set(), restoreErrors: 0, restoreGate: null };
  /** Hypeman's TLS_ALLOWED_DOMAINS (`*.domain` for a pattern); empty: ACME isn't configured, so a rule with `tls` is refused. */
  tlsAllowedDomains: string[] = [];
  /** Every instance create's body with the id it got, in order (deleted ones too). */
  readonly created: Json[] = [];
  private readonly reads = new Map<string, number>();
  /** Auto-standby holds: instance id -> until (ms). */
  readonly holds = new Map<string, number>();
  /** The auto-standby clock (holds, the controller hook): tests move it instead of waiting. */
  clock: () => number = Date.now;

  /** Hypeman's controller: the instance had no inbound connection for its idle_timeout; true when it went to Standby. */
  idle(idOrName: string): boolean {
    const key = this.find(this.instances, idOrName);
    return key !== undefined && idlePastTimeout(this.instances.get(key)!, this.holds.get(key), this.clock());
  }

  /** Handles the request when it is one of these resources; false otherwise. */
  handle(req: IncomingMessage, url: URL, send: Send, fail: Fail, res?: ServerResponse): boolean {
    const [resource, rawId, ...rest] = url.pathname.split("/").slice(1);
    if (resource === "instances" && rawId && rest.length === 1 && rest[0] === "logs" && req.method === "GET" && res) return this.logs(decodeURIComponent(rawId), url, res, fail), true;
    if (resource === "instances" && rawId && rest.length === 1 && (rest[0] === "standby" || rest[0] === "restore") && req.method === "POST") return this.action(decodeURIComponent(rawId), rest[0], send, fail), true;
    if (resource === "instances" && rawId && rest.length === 2 && rest[0] === "auto-standby") return this.autoStandby(decodeURIComponent(rawId), `${req.method} ${rest[1]}`, send, fail), true;
    if (!resource || !["images", "instances", "ingresses"].includes(resource) || rest.length > 0) return false;
    const id = rawId === undefined ? undefined : decodeURIComponent(rawId);
    const method = req.method ?? "GET";
    if (!id && method === "POST") {
      void readJson(req).then((body) => (body ? this.create(resource, body, send, fail) : fail(400, "invalid_request", "expected a JSON body")));
      return true;
    }
    if (!id && method === "GET") return send(200, this.list(resource, url.searchParams)), true;
    const table = this.table(resource);
    const key = id ? this.find(table, id) : undefined;
    if (!key) return fail(404, "not_found", `${resource.slice(0, -1)} ${id} not found`), true;
    if (method === "GET") return send(200, this.read(resource, key)), true;
    if (method === "DELETE") return table.delete(key), send(204), true;
    return fail(405, "method_not_allowed", `${method} ${url.pathname}`), true;
  }

  /** Standby and restore (fake-instance-actions.ts), on the instance as a read would find it now. */
  private action(idOrName: string, action: "standby" | "restore", send: Send, fail: Fail): void {
    const key = this.find(this.instances, idOrName);
    if (!key) return fail(404, "not_found", `instance ${idOrName} not found`);
    const act = () => {
      if (action === "restore" && this.faults.restoreErrors > 0 && this.faults.restoreErrors--) return fail(500, "internal_error", "failed to restore instance: snapshot could not be loaded");
      instanceAction(this.read("instances", key), action, send, fail);
    };
    if (action === "restore" && this.faults.restoreGate) void this.faults.restoreGate.then(act);
    else act();
  }

  /** GET .../auto-standby/status and POST .../auto-standby/hold. */
  private autoStandby(idOrName: string, what: string, send: Send, fail: Fail): void {
    const key = this.find(this.instances, idOrName);
    if (!key) return fail(404, "not_found", `instance ${idOrName} not found`);
    const instance = this.read("instances", key);
    if (what === "GET status") return send(200, autoStandbyStatus(instance, this.holds.get(key), this.clock()));
    if (what === "POST hold") return holdAutoStandby(instance, this.holds, this.clock(), send, fail);
    fail(405, "method_not_allowed", what);
  }

  private table(resource: string): Map<string, Json> {
    return resource === "images" ? this.images : resource === "instances" ? this.instances : this.ingresses;
  }

  /** By id or by name, as Hypeman looks instances and ingresses up. */
  private find(table: Map<string, Json>, idOrName: string): string | undefined {
    if (table.has(idOrName)) return idOrName;
    for (const [k, v] of table) if (v.name === idOrName) return k;
    return undefined;
  }

  private create(resource: string, body: Json, send: Send, fail: Fail): void {
    if (typeof body.name !== "string" || body.name.length === 0) return fail(400, "invalid_request", "name is required");
    if (resource === "images") return send(201, this.createImage(body));
    if (!NAME.test(body.name) || body.name.length > 63) return fail(400, "invalid_name", `name ${body.name} must be lowercase letters, digits and dashes, at most 63`);
    const table = this.table(resource);
    if (this.find(table, body.name)) return fail(409, "already_exists", `${resource.slice(0, -1)} ${body.name} already exists`);
    if (resource === "instances") return this.createInstance(body, send, fail);
    return this.createIngress(body, send, fail);
  }

  private createImage(body: Json): Json {
    const existing = this.images.get(body.name);
    if (existing && existing.status !== "failed") return existing;
    const image = { name: body.name, digest: `sha256:${"0".repeat(64)}`, status: "pending", created_at: now(), tags: body.tags ?? {}, error: null };
    this.images.set(body.name, image);
    this.reads.set(`image:${body.name}`, 0);
    return image;
  }

  private createInstance(body: Json, send: Send, fail: Fail): void {
    if (typeof body.image !== "string") return fail(400, "invalid_request", "image is required");
    const image = this.images.get(body.image);
    if (!image || image.status !== "ready") return fail(400, "image_not_ready", `image ${body.image} is not ready`);
    if (this.faults.createErrors > 0) {
      this.faults.createErrors--;
      return fail(500, "internal_error", "failed to create instance: vmm did not start");
    }
    const hc = body.health_check;
    if (hc && hc.type === "http" && !(hc.http && Number.isInteger(hc.http.port))) return fail(400, "invalid_request", "health_check.http.port is required");
    const standbyProblem = autoStandbyProblem(body.auto_standby);
    if (standbyProblem) return fail(400, "invalid_request", standbyProblem);
    const id = randomUUID().replace(/-/g, "").slice(0, 24);
    this.created.push({ ...body, id });
    const instance: Json = {
      id, name: body.name, image: body.image, state: "Initializing", created_at: now(), expires_at: null, env: body.env ?? {},
      health_check: hc, restart_policy: body.restart_policy, tags: body.tags ?? {}, cmd: body.cmd, entrypoint: body.entrypoint, exit_code: null,
      health_status: { status: hc && hc.type !== "none" ? "starting" : "disabled", consecutive_failures: 0, consecutive_successes: 0, last_error: null },
      network: { enabled: true, ip: `10.100.0.${(this.instances.size % 250) + 2}`, name: "default" },
      ...(body.auto_standby ? { auto_standby: body.auto_standby } : {}),
    };
    this.instances.set(id, instance);
    this.reads.set(`instance:${id}`, 0);
    send(201, instance);
  }

  private createIngress(body: Json, send: Send, fail: Fail): void {
    const rules = body.rules as Json[] | undefined;
    if (!Array.isArray(rules) || rules.length === 0) return fail(400, "invalid_request", "rules are required");
    for (const rule of rules) {
      if (!rule?.match?.hostname || !rule?.target?.instance || !Number.isInteger(rule?.target?.port)) return fail(400, "invalid_request", "each rule needs match.hostname, target.instance and target.port");
      const tlsProblem = this.tlsProblem(rule);
      if (tlsProblem) return fail(400, tlsProblem.code, tlsProblem.message);
      for (const other of this.ingresses.values()) {
        if (other.rules.some((r: Json) => r.match.hostname === rule.match.hostname && (r.match.port ?? 80) === (rule.match.port ?? 80))) {
          return fail(409, "hostname_in_use", `hostname ${rule.match.hostname} is already used by ingress ${other.name}`);
        }
      }
    }
    const id = randomUUID().replace(/-/g, "").slice(0, 24);
    const ingress = { id, name: body.name, rules, tags: body.tags ?? {}, created_at: now() };
    this.ingresses.set(id, ingress);
    send(201, ingress);
  }

  /** As Hypeman's ingress manager checks a rule with `tls`: ACME configured, and the hostname (a pattern's wildcard) allowed. */
  private tlsProblem(rule: Json): { code: string; message: string } | null {
    if (rule.tls === undefined || rule.tls === false) return null;
    if (rule.tls !== true || (rule.redirect_http !== undefined && typeof rule.redirect_http !== "boolean")) return { code: "invalid_request", message: "tls and redirect_http are booleans" };
    if (this.tlsAllowedDomains.length === 0) return { code: "invalid_request", message: "TLS requested but ACME is not configured (set ACME_EMAIL and ACME_DNS_PROVIDER)" };
    const host = String(rule.match.hostname).replace(/^\{[a-z]+\}\./, "*.");
    if (this.tlsAllowedDomains.includes(host) || this.tlsAllowedDomains.includes("*")) return null;
    return { code: "domain_not_allowed", message: `"${host}" is not in TLS_ALLOWED_DOMAINS (allowed: ${this.tlsAllowedDomains.join(",")})` };
  }

  private list(resource: string, query: URLSearchParams): Json[] {
    const tags: [string, string][] = [];
    for (const [k, v] of query) if (k.startsWith("tags[") && k.endsWith("]")) tags.push([k.slice(5, -1), v]);
    const state = query.get("state");
    return [...this.table(resource).keys()]
      .map((k) => this.read(resource, k))
      .filter((r) => (this.faults.ignoreTagFilter || tags.every(([k, v]) => r.tags?.[k] === v)) && (!state || r.state === state));
  }

  /** A read moves a pull or a boot along, as time would on a real server. */
  private read(resource: string, key: string): Json {
    const record = this.table(resource).get(key)!;
    const counter = `${resource.slice(0, -1)}:${key}`;
    const n = (this.reads.get(counter) ?? 0) + 1;
    this.reads.set(counter, n);
    const held = resource === "images" && [...this.faults.holdPulls].some((end) => String(record.name).endsWith(end));
    if (resource === "images" && held && record.status !== "failed" && record.status !== "ready") record.status = "pulling";
    else if (resource === "images" && record.status !== "ready" && record.status !== "failed") {
      if (n >= IMAGE_STEPS.length) {
        const failed = this.faults.failImages.has(record.name);
        Object.assign(record, failed ? { status: "failed", error: `failed to pull ${record.name}: manifest unknown` } : { status: "ready", digest: record.digest });
      } else record.status = IMAGE_STEPS[n]!;
    }
    if (resource === "instances") this.boot(record, n);
    return record;
  }

  /** A program that exits by itself: never restarted, with its own command. */
  private isJob(instance: Json): boolean {
    return instance.restart_policy?.policy === "never" && Array.isArray(instance.cmd) && instance.cmd.length > 0;
  }

  private jobOf(instance: Json): FakeJob {
    return this.faults.commands.get(String(instance.cmd.at(-1))) ?? { exitCode: 0, output: [`ran ${instance.cmd.at(-1)}`] };
  }

  /** GET /instances/{id}/logs: Server-Sent Events, each `data:` a JSON string (one line), the last `tail` lines. */
  private logs(idOrName: string, url: URL, res: ServerResponse, fail: Fail): void {
    const key = this.find(this.instances, idOrName);
    if (!key) return fail(404, "not_found", `instance ${idOrName} not found`);
    const instance = this.instances.get(key)!;
    const lines = this.isJob(instance) && instance.state === "Stopped" ? this.jobOf(instance).output : [];
    const tail = Number(url.searchParams.get("tail") ?? 100);
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const line of lines.slice(-Math.max(0, tail))) res.write(`data: ${JSON.stringify(line)}\n\n`);
    res.end();
  }

  private boot(instance: Json, reads: number): void {
    if (instance.state === "Initializing") Object.assign(instance, { state: "Running", started_at: now() });
    if (this.isJob(instance) && instance.state === "Running" && reads >= 2) {
      const { exitCode } = this.jobOf(instance);
      Object.assign(instance, { state: "Stopped", stopped_at: now(), exit_code: exitCode, exit_message: exitCode === 0 ? "exited normally" : `exited with code ${exitCode}` });
    }
    const health = instance.health_status;
    if (health.status !== "starting" || reads < this.faults.healthAfterReads) return;
    if (this.faults.unhealthy.has(instance.image)) {
      const path = instance.health_check?.http?.path ?? "/";
      Object.assign(health, { status: "unhealthy", consecutive_failures: 3, last_error: `GET ${path}: connection refused`, last_failure_at: now() });
    } else Object.assign(health, { status: "healthy", consecutive_successes: 1, last_success_at: now() });
  }
}

export interface FakeJob {
  exitCode: number;
  output: string[];
}

async function readJson(req: IncomingMessage): Promise<Json | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 1024 * 1024) return null;
    chunks.push(c as Buffer);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return body && typeof body === "object" && !Array.isArray(body) ? body : null;
  } catch {
    return null;
  }
}

const now = () => new Date().toISOString();
