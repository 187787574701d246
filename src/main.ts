import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Server } from "node:http";
import { hostname } from "node:os";
import { createNodeMiddleware, createProbot, run, type Probot } from "probot";
import type { Builder } from "./core/builder.ts";
import { BuildService } from "./core/build-service.ts";
import { CheckRunOpener } from "./core/check-run-opener.ts";
import type { Archiver, ImageNamer, Planner, RegistryCredential, RegistryCredentials, SecretSource } from "./core/ports.ts";
import { WorkerPool } from "./core/worker-pool.ts";
import { hasAppCredentials, loadEnv, publicUrl, type Env } from "./config/env.ts";
import { microshipApp } from "./github/app.ts";
import { installationClients } from "./github/installation-clients.ts";
import { MicroshipOctokit } from "./github/octokit-class.ts";
import { HmacLinks } from "./http/links.ts";
import { PrometheusMetrics } from "./http/metrics.ts";
import { loadLinkSecret } from "./http/link-secret.ts";
import { createHttpApp, createMetricsApp } from "./http/server.ts";
import { createWorkerApp } from "./http/worker-app.ts";
import { createDeployProxy, type DeployProxy } from "./deploy/proxy/deploy-proxy.ts";
import type { RouteTable } from "./deploy/proxy/route-table.ts";
import { createLogger, type Logger } from "./log/logger.ts";
import { registerSecret } from "./core/redact.ts";
import { CheckRunReporter } from "./github/reporter/check-run-reporter.ts";
import type { Deployer } from "./core/deployer.ts";
import { deployParts, rollbackService } from "./deploy-parts.ts";
import type { PreviewReconciler } from "./core/deploy/reconciler.ts";
import type { Store } from "./core/store.ts";
import { openStorage } from "./open-storage.ts";
import { startLogRetention } from "./store/log-retention.ts";
import { createDefaultParts, type Parts } from "./default-parts.ts";
import { pipelineDeps } from "./pipeline-parts.ts";
import { dashboardUsers } from "./github/dashboard-users.ts";
import { GitHubRollbackRequests } from "./github/rollback-requests.ts";
import type { RollbackService } from "./core/deploy/rollback-service.ts";
import { exitIfRefused } from "./start-refusal.ts";
import { repoSecrets } from "./secrets-parts.ts";
import { stopOnSignals } from "./stop-on-signals.ts";
import { startWebhookProxy } from "./http/webhook-proxy.ts";
import { applyDotEnv } from "./config/dot-env.ts";

/** Seams a test (or an embedding) may replace; everything else is built here and only here. */
export interface Overrides {
  builder?: Builder;
  planner?: Planner;
  archiver?: Archiver;
  images?: ImageNamer;
  /** Issues build credentials for a MICROSHIP_REGISTRY whose front is ours (tests). */
  registryCredentials?: RegistryCredentials;
  logger?: Logger;
  progressIntervalMs?: number;
  leaseMs?: number;
  pollMs?: number;
  /** Build logs streamed at once (32). */
  maxLogStreams?: number;
  /** The dashboard's builds list refresh (tests). */
  listRefreshMs?: number;
  /** Replaces MICROSHIP_DEPLOYER's deployer; null turns deploys off. */
  deployer?: Deployer | null;
  /** Secrets for builds and deploys, instead of microship's own store (tests); null: none. */
  secrets?: SecretSource | null;
  /** The deploy proxy's routes, shared with a replacement deployer; null: no deploy proxy. */
  deployRoutes?: RouteTable | null;
}

export interface RunningMicroship {
  url: string;
  /** The /metrics listener of MICROSHIP_METRICS_PORT, when there is one. */
  metricsUrl: string | null;
  /** Where images are pushed: MICROSHIP_REGISTRY, or the embedded registry's address. */
  registry: string;
  /** The embedded registry's operator credential, for pulling what was built; null for MICROSHIP_REGISTRY. */
  registryAuth: RegistryCredential | null;
  server: Server;
  pool: WorkerPool;
  store: Store;
  links: HmacLinks;
  /** Removes closed and expired previews every MICROSHIP_RECONCILE_MINUTES; null when nothing deploys. */
  reconciler: PreviewReconciler | null;
  stop(): Promise<void>;
}

export async function startMicroship(env: Env, overrides: Overrides = {}): Promise<RunningMicroship> {
  const log = overrides.logger ?? createLogger(env.LOG_LEVEL);
  const dataDir = resolve(env.MICROSHIP_DATA_DIR), workDir = join(dataDir, "work");
  mkdirSync(workDir, { recursive: true });
  const probot = createAppProbot(env, log);
  const linkSecret = loadLinkSecret(dataDir, env.MICROSHIP_LOG_SECRET, log);
  let listening = env.PORT; // PORT=0: the links take the port the server got, once it listens.
  const ownUrl = () => publicUrl(env, listening);
  const links = new HmacLinks(linkSecret, ownUrl, env.MICROSHIP_LOG_LINK_DAYS);

  const storage = await openStorage(env, dataDir, log);
  const { store, queue } = storage;
  const metrics = new PrometheusMetrics(store, queue);
  const { clientFor, tokens } = installationClients(probot);
  const reporter = new CheckRunReporter(clientFor, links);
  const opener = new CheckRunOpener(store, reporter, log, links);
  const parts = await createDefaultParts(env, log, overrides);
  const { pipeline: deploying, previews, reconciler } = deployParts(parts.deployer, clientFor, log, { store, reconcileMinutes: env.MICROSHIP_RECONCILE_MINUTES });

  const secrets = repoSecrets(env, dataDir, storage.secretRows, log);
  const pipeline = { ...pipelineDeps({ env, overrides, parts, tokens, clientFor, reporter, store, links, metrics, log, workDir, secrets }), ...deploying };
  const rollbacks = rollbackService(pipeline);
  const pool = new WorkerPool({ queue, opener, concurrency: env.MICROSHIP_CONCURRENCY, leaseMs: overrides.leaseMs, pollMs: overrides.pollMs, pipeline,
    hostId: env.MICROSHIP_HOST_ID ?? hostname(), affinityMs: env.MICROSHIP_AFFINITY_MS });
  // Other replicas' submits wake this one's workers; their stop requests reach its builds at once.
  // A web replica (MICROSHIP_ROLE) never claims: its pool is never started nor woken.
  const claims = env.MICROSHIP_ROLE !== "web", wake = () => void (claims && pool.wake());
  storage.onWake(wake);
  storage.onCancel((id) => pool.cancel(id));
  const service = new BuildService({ store, reporter, opener, links, metrics, log, wake, cancelRunning: (id, why) => pool.cancel(id, why) });
  const webhooks = await createNodeMiddleware(microshipApp({ service, store, reporter, log, previews, rollbacks, appId: env.APP_ID ? Number(env.APP_ID) : null }), { probot });
  const app = httpApp({ env, overrides, webhooks, store, links, metrics, log, linkSecret, service, clientFor, deploying, builder: parts.builder, deployRoutes: parts.deployRoutes, rollbacks, secrets, ownUrl });

  if (claims) await pool.start();
  const retention = startLogRetention({ store, days: env.MICROSHIP_LOG_RETENTION_DAYS, log });
  const server = await listen(app, env.PORT, env.HOST);
  const port = (listening = portOf(server, env.PORT));
  log.info({ port, builder: parts.builder.describe(), dataDir, storage: storage.kind, role: env.MICROSHIP_ROLE }, `microship listening on port ${port}; builds run on: ${parts.builder.describe()}`);
  const metricsServer = await listenForMetrics(env, metrics, log), webhookProxy = startWebhookProxy({ url: env.MICROSHIP_ROLE === "worker" ? undefined : env.WEBHOOK_PROXY_URL, host: env.HOST, port, path: "/api/github/webhooks", log });

  return {
    url: `http://127.0.0.1:${port}`,
    metricsUrl: metricsServer ? `http://${env.MICROSHIP_METRICS_HOST}:${portOf(metricsServer, 0)}` : null,
    registry: parts.registry,
    registryAuth: parts.registryAuth,
    server,
    pool,
    store,
    links, reconciler,
    async stop() {
      await Promise.all([retention.stop(), reconciler?.stop(), webhookProxy?.stop()]);
      await closeServers([server, metricsServer]);
      await pool.stop();
      await previews?.idle();
      await rollbacks?.idle();
      await parts.close();
      await storage.close();
    },
  };
}

interface HttpParts {
  env: Env;
  overrides: Overrides;
  webhooks: Parameters<typeof createHttpApp>[0]["webhooks"];
  store: Store;
  links: HmacLinks;
  metrics: PrometheusMetrics;
  log: Logger;
  linkSecret: ReturnType<typeof loadLinkSecret>;
  service: BuildService;
  clientFor: ReturnType<typeof installationClients>["clientFor"];
  deploying: ReturnType<typeof deployParts>["pipeline"];
  builder: Builder;
  deployRoutes: Parts["deployRoutes"];
  rollbacks: RollbackService | null;
  secrets: ReturnType<typeof repoSecrets>;
  /** microship's own URL, asked at each use (PORT=0: the port is known once listening). */
  ownUrl: () => string;
}

/** The main port's app: webhooks, health, metrics (unless apart), log pages, deployments' hosts and the dashboard; a worker's: health and metrics. */
function httpApp({ env, overrides, webhooks, store, links, metrics, log, linkSecret, service, clientFor, deploying, builder, deployRoutes, rollbacks, secrets, ownUrl }: HttpParts) {
  const metricsApart = env.MICROSHIP_METRICS_PORT !== undefined;
  const metricsToken = env.MICROSHIP_METRICS_TOKEN;
  if (env.MICROSHIP_ROLE === "worker") return createWorkerApp({ store, metrics, log, serveMetrics: !metricsApart, metricsToken });
  return createHttpApp({
    webhooks, store, links, metrics, log, logRetentionDays: env.MICROSHIP_LOG_RETENTION_DAYS, serveMetrics: !metricsApart, metricsToken,
    maxLogStreams: overrides.maxLogStreams, deployProxy: deployRoutes ? createDeployProxy(deployRoutes, { log }) : null,
    dashboard: {
      github: dashboardUsers(env, clientFor), service, store, linkSecret, publicUrl: ownUrl, log, maxLogStreams: overrides.maxLogStreams, listRefreshMs: overrides.listRefreshMs,
      deployer: deploying.deployer, deployments: deploying.deployments, builder, dataDir: resolve(env.MICROSHIP_DATA_DIR),
      rollbacks: rollbacks ? { service: rollbacks, requests: new GitHubRollbackRequests(clientFor) } : null, secrets,
    },
  });
}

/** Probot on our own Octokit class and logger; the secrets it is given are scrubbed from every log. */
function createAppProbot(env: Env, log: Logger): Probot {
  const probotEnv = Object.fromEntries(
    Object.entries({
      APP_ID: env.APP_ID, PRIVATE_KEY: env.PRIVATE_KEY, PRIVATE_KEY_PATH: env.PRIVATE_KEY_PATH, WEBHOOK_SECRET: env.WEBHOOK_SECRET,
      GHE_HOST: env.GHE_HOST, GHE_PROTOCOL: env.GHE_PROTOCOL, LOG_LEVEL: env.LOG_LEVEL,
    }).filter(([, v]) => v !== undefined),
  ) as Record<string, string>;
  const probot = createProbot({ env: probotEnv, overrides: { log: log.child({ name: "probot" }), Octokit: MicroshipOctokit } });
  registerSecret(env.WEBHOOK_SECRET);
  registerSecret(env.MICROSHIP_LOG_SECRET);
  registerSecret(env.MICROSHIP_METRICS_TOKEN);
  registerSecret(env.GITHUB_CLIENT_SECRET);
  registerSecret(env.HYPEMAN_API_KEY);
  return probot;
}

/** /metrics on its own listener when MICROSHIP_METRICS_PORT is set; null when it is served on the main port. */
async function listenForMetrics(env: Env, metrics: PrometheusMetrics, log: Logger): Promise<Server | null> {
  const metricsToken = env.MICROSHIP_METRICS_TOKEN;
  if (env.MICROSHIP_METRICS_PORT === undefined) {
    if (!metricsToken) log.warn("/metrics is public on the main port: set MICROSHIP_METRICS_TOKEN or MICROSHIP_METRICS_PORT to close it");
    return null;
  }
  const server = await listen(createMetricsApp({ metrics, metricsToken, log }), env.MICROSHIP_METRICS_PORT, env.MICROSHIP_METRICS_HOST);
  log.info({ port: portOf(server, 0), host: env.MICROSHIP_METRICS_HOST }, "/metrics has its own listener");
  return server;
}

async function closeServers(servers: (Server | null)[]): Promise<void> {
  for (const s of servers) {
    if (!s) continue;
    // close() waits for every open connection, so a reader in the middle of a log is cut off.
    const closed = new Promise<void>((ok) => s.close(() => ok()));
    s.closeAllConnections();
    await closed;
  }
}

function listen(app: ReturnType<typeof createWorkerApp>, port: number, host: string): Promise<Server> {
  return new Promise<Server>((ok, fail) => {
    const s = app.listen(port, host, () => ok(s)).on("error", fail);
    (app.locals.deployProxy as DeployProxy | null | undefined)?.attach(s);
  });
}

function portOf(server: Server, fallback: number): number {
  const address = server.address();
  return typeof address === "object" && address ? address.port : fallback;
}

export async function main(): Promise<void> {
  let env: Env;
  try {
    applyDotEnv();
    env = loadEnv();
  } catch (err) {
    exitIfRefused(err);
  }
  if (!hasAppCredentials(env)) {
    console.error("No GitHub App credentials (APP_ID and PRIVATE_KEY or PRIVATE_KEY_PATH): starting the setup flow.");
    await run(() => {}); // Probot's own setup flow: registers the app from app.yml and writes .env.
    return;
  }
  const running = await startMicroship(env).catch(exitIfRefused);
  stopOnSignals(() => running.stop());
}

if (import.meta.main) await main();
