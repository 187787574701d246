import { createHash } from "node:crypto";
import { APIError, Hypeman } from "@onkernel/hypeman";
import type { Instance } from "@onkernel/hypeman/resources/instances/instances";
import { InstanceNotFoundError, type Deployer, type DeployInput, type DeploymentKey, type DeployResult, type InstanceKey, type LiveDeployment } from "../../core/deployer.ts";
import { deploymentPrefix, freshGeneration, instanceName } from "../../core/deploy/instance-name.ts";
import { infraError, userError } from "../../core/errors.ts";
import type { OpLog } from "../../core/ports.ts";
import { identityTags, listFilter, liveDeployment } from "./deployment-tags.ts";
import { PatternIngresses } from "./pattern-ingress.ts";
import { DeployUrls } from "./deploy-urls.ts";
import { pollUntil } from "./poll-until.ts";
import { runRelease } from "./release-command.ts";
import { restore, standby } from "./instance-standby.ts";

export interface HypemanDeployerOptions {
  baseURL: string;
  apiKey?: string;
  /** Deployments answer at `{instance}.{domain}`. */
  domain: string;
  /** MICROSHIP_HYPEMAN_INGRESS_TLS: the pattern ingress terminates TLS. */
  tls?: boolean;
  /** The scheme and port of the URLs given out (hypemanDeployUrls); default: Hypeman's ingress's, per `tls`. */
  urls?: DeployUrls;
  log?: OpLog;
  pollMs?: number;
  imageTimeoutMs?: number;
  healthTimeoutMs?: number;
  /** How long deploy.release may run. */
  releaseTimeoutMs?: number;
  /**
   * Previews get Hypeman's auto-standby after their idle minutes. Only with microship's wake layer
   * (MICROSHIP_HYPEMAN_INGRESS_URL, wake-routes.ts): Hypeman's ingress wakes nothing, so without it
   * a preview asleep would stay so.
   */
  autoStandby?: boolean;
}

/** Tags every instance of a deployment carries, so a later deploy or a teardown finds them all. */
const DEPLOYMENT_TAG = "microship-deployment";
/** Shared by every app's instances of one target (a PR's preview, an environment), for teardown. */
const TARGET_TAG = "microship-target";
const targetTag = (k: Omit<DeploymentKey, "app">) => createHash("sha256").update(`${k.owner}/${k.repo}/${k.target.slug}`).digest("hex").slice(0, 16);
const DEFAULT_PORT = 3000;
/** Marks the one-off instance of a release command: not a deployment of its own. */
const ROLE_TAG = "microship-role";

/**
 * Deploys on a Hypeman server: the pushed image is pulled (images.create, until ready), a new
 * instance of it starts beside the one serving, with the app's env, an HTTP health check and a
 * restart policy; once healthy it takes the deployment's traffic and the old instances go. Every
 * instance answers at its own name under the domain's pattern ingress; the deployment's URL is
 * the newest healthy one's. A failure anywhere removes only the new instance.
 */
export class HypemanDeployer implements Deployer {
  readonly name = "hypeman";
  private readonly client: Hypeman;
  private readonly ingresses: PatternIngresses;
  private readonly o: Required<Pick<HypemanDeployerOptions, "pollMs" | "imageTimeoutMs" | "healthTimeoutMs" | "releaseTimeoutMs">> & HypemanDeployerOptions;

  constructor(o: HypemanDeployerOptions) {
    this.o = { pollMs: 1_000, imageTimeoutMs: 600_000, healthTimeoutMs: 300_000, releaseTimeoutMs: 900_000, ...o };
    this.client = new Hypeman({ baseURL: o.baseURL, apiKey: o.apiKey ?? "", maxRetries: 2, timeout: 60_000, logLevel: "off" });
    const tls = o.tls ?? false;
    this.ingresses = new PatternIngresses(this.client, { domain: o.domain, defaultPort: DEFAULT_PORT, tls, urls: o.urls ?? new DeployUrls(tls ? "https" : "http", null) });
  }

  describe(): string {
    return `Hypeman at ${new URL(this.o.baseURL).host}`;
  }

  async deploy(input: DeployInput): Promise<DeployResult> {
    // A redeploy (fresh) gets a name of its own: started beside the serving one, which then goes.
    const name = instanceName({ ...input, slug: input.target.slug, generation: input.fresh ? freshGeneration(input.digest) : input.digest.split(":").pop() ?? input.digest });
    const tag = deploymentPrefix(name);
    await this.pullImage(input);
    await this.ingresses.ensure(input.port);
    const before = await this.instancesOf(tag, input.signal);
    const same = before.find((i) => i.name === name);
    // One in standby (put to sleep) serves nothing: it is replaced like an unhealthy one.
    if (same && same.state !== "Standby" && same.health_status?.status === "healthy") {
      input.log(`${name} already serves this image.`);
      return { url: this.ingresses.url(name, input.port), instance: name, replaced: await this.remove(before.filter((i) => i !== same)) };
    }
    if (same) await this.remove([same]);
    if (input.release) await this.release({ ...input, release: input.release }, tag, before);
    const created = await this.startInstance(name, tag, input);
    await this.awaitHealthy(created, input);
    const replaced = await this.remove(before.filter((i) => i.id !== created.id && i !== same));
    if (replaced.length > 0) input.log(`Traffic moved to ${name}; removed ${replaced.join(", ")}.`);
    return { url: this.ingresses.url(name, input.port), instance: name, replaced };
  }

  async list(filter: { owner: string; repo: string } | null, signal: AbortSignal): Promise<LiveDeployment[]> {
    const tags = listFilter(filter);
    const listed = await this.client.instances.list({ tags }, { signal });
    const live: LiveDeployment[] = [];
    for (const i of listed) {
      // Filtered again here: a server that ignores the tag filter must not show other repos' instances.
      if (!Object.entries(tags).every(([k, v]) => i.tags?.[k] === v) || i.tags?.[ROLE_TAG] === "release") continue;
      const d = liveDeployment(i, this.ingresses.url(i.name, Number(i.env?.PORT) || DEFAULT_PORT));
      if (d) live.push(d);
    }
    return live;
  }

  async teardown(key: Omit<DeploymentKey, "app">, signal: AbortSignal): Promise<number> {
    const tag = targetTag(key);
    const listed = await this.client.instances.list({ tags: { [TARGET_TAG]: tag } }, { signal });
    return (await this.remove(listed.filter((i) => i.tags?.[TARGET_TAG] === tag))).length;
  }

  async sleep(key: InstanceKey, signal: AbortSignal): Promise<LiveDeployment["state"]> {
    return standby(this.client, key, await this.listed(key, signal), signal);
  }

  async wake(key: InstanceKey, signal: AbortSignal): Promise<LiveDeployment["state"]> {
    return restore(this.client, key, await this.listed(key, signal), signal);
  }

  /** The instance as list() reports it for its repository: never a release's, another repo's or an unmanaged one. */
  private async listed(key: InstanceKey, signal: AbortSignal): Promise<LiveDeployment> {
    const found = (await this.list({ owner: key.owner, repo: key.repo }, signal)).find((d) => d.instance === key.instance);
    if (!found) throw new InstanceNotFoundError(key);
    return found;
  }

  private async pullImage(input: DeployInput): Promise<void> {
    input.log(`Pulling ${input.imageRef} into Hypeman.`);
    await this.client.images.create({ name: input.imageRef }, { signal: input.signal });
    const { value, result } = await pollUntil(
      () => this.client.images.get(input.imageRef, { signal: input.signal }),
      (image) => (image.status === "ready" ? true : image.status === "failed" ? false : undefined),
      { pollMs: this.o.pollMs, timeoutMs: this.o.imageTimeoutMs, signal: input.signal },
    );
    if (result === true) return;
    if (result === false) throw infraError(`Hypeman could not pull the image: ${value?.error ?? "no reason given"}`, { title: "Deploy failed" });
    throw infraError(`Hypeman did not finish pulling the image in ${Math.round(this.o.imageTimeoutMs / 1000)} s (last status ${value?.status ?? "unknown"}).`);
  }

  /** The release command, in a one-off instance of the new image; one a crash left behind goes first. */
  private async release(input: DeployInput & { release: string }, tag: string, before: Instance[]): Promise<void> {
    const name = instanceName({ ...input, slug: input.target.slug, generation: `r${(input.digest.split(":").pop() ?? input.digest).slice(0, 11)}` });
    await this.remove(before.filter((i) => i.name === name));
    const tags = { ...identityTags(input), [DEPLOYMENT_TAG]: tag, [TARGET_TAG]: targetTag(input), [ROLE_TAG]: "release" };
    await runRelease(this.client, input, { name, tags, pollMs: this.o.pollMs, timeoutMs: this.o.releaseTimeoutMs });
  }

  private async startInstance(name: string, tag: string, input: DeployInput): Promise<Instance> {
    input.log(`Starting ${name}.`);
    try {
      return await this.create(name, tag, input);
    } catch (err) {
      // Cancelled while the create was in flight: the server may have made the instance anyway.
      if (input.signal.aborted) await this.remove((await this.instancesOf(tag, new AbortController().signal)).filter((i) => i.name === name)).catch(() => undefined);
      throw err;
    }
  }

  private create(name: string, tag: string, input: DeployInput): Promise<Instance> {
    return this.client.instances.create({
      name, image: input.imageRef, env: input.env,
      health_check: { type: "http", http: { port: input.port, path: input.health }, interval: "2s", timeout: "2s", start_period: "30s", failure_threshold: 3, success_threshold: 1 },
      restart_policy: { policy: "on_failure", max_attempts: 5, backoff: "5s", stable_after: "60s" },
      tags: { ...identityTags(input), [DEPLOYMENT_TAG]: tag, [TARGET_TAG]: targetTag(input) },
      ...autoStandby(this.o.autoStandby === true, input),
    }, { signal: input.signal });
  }

  /** Healthy, or the new instance is removed and the old one keeps the traffic. */
  private async awaitHealthy(instance: Instance, input: DeployInput): Promise<void> {
    const { value, result } = await pollUntil(
      () => this.client.instances.get(instance.id, { signal: input.signal }),
      (i) => (i.health_status?.status === "healthy" ? true : i.health_status?.status === "unhealthy" || isDead(i) ? false : undefined),
      { pollMs: this.o.pollMs, timeoutMs: this.o.healthTimeoutMs, signal: input.signal },
    ).catch(async (err) => {
      await this.remove([instance]);
      throw err;
    });
    if (result === true) return;
    await this.remove([instance]);
    const why = value?.health_status?.last_error ?? value?.exit_message ?? (result === null ? `no answer within ${Math.round(this.o.healthTimeoutMs / 1000)} s` : `state ${value?.state}`);
    throw userError(`The new version did not pass its health check (GET ${input.health} on port ${input.port}): ${why}. The previous version keeps serving.`, {
      title: "Deploy failed",
      hint: `Make the app listen on $PORT (${input.port}) and answer ${input.health} with 2xx, or set deploy.port and deploy.health in .github/microship.yml.`,
    });
  }

  private async instancesOf(tag: string, signal: AbortSignal): Promise<Instance[]> {
    const listed = await this.client.instances.list({ tags: { [DEPLOYMENT_TAG]: tag } }, { signal });
    // The server filters by tag; the name check keeps a server that ignores the filter from costing another deployment its instances.
    return listed.filter((i) => i.name.startsWith(tag) && i.tags?.[DEPLOYMENT_TAG] === tag);
  }

  /** Deletes each; one already gone counts as removed. */
  private async remove(instances: Instance[]): Promise<string[]> {
    const removed: string[] = [];
    for (const i of instances) {
      try {
        await this.client.instances.delete(i.id, { graceful_shutdown: true });
      } catch (err) {
        if (!(err instanceof APIError && err.status === 404)) throw err;
      }
      removed.push(i.name);
    }
    return removed;
  }
}

/** Environments never sleep by themselves; a preview does after preview.idle_minutes without a connection. */
function autoStandby(on: boolean, input: DeployInput): { auto_standby?: { enabled: true; idle_timeout: string } } {
  if (!on || input.target.kind !== "preview" || !input.idleMinutes || input.idleMinutes <= 0) return {};
  return { auto_standby: { enabled: true, idle_timeout: `${input.idleMinutes}m` } };
}

const isDead = (i: Instance) => i.state === "Stopped" || i.state === "Shutdown" || i.state === "Unknown";
