import type { Env } from "./config/env.ts";
import type { PipelineDeps } from "./core/pipeline-deps.ts";
import type { Store } from "./core/store.ts";
import type { SecretSource } from "./core/ports.ts";
import type { Parts } from "./default-parts.ts";
import { renderDetectionStory } from "./detect/story.ts";
import type { installationClients } from "./github/installation-clients.ts";
import { RepoConfigSource } from "./github/repo-config-source.ts";
import type { CheckRunReporter } from "./github/reporter/check-run-reporter.ts";
import type { HmacLinks } from "./http/links.ts";
import type { PrometheusMetrics } from "./http/metrics.ts";
import type { Logger } from "./log/logger.ts";
import type { Overrides } from "./main.ts";
import { GitCheckout, type TokenProvider } from "./source/checkout.ts";

/** What the worker pool's pipeline is made of, from the parts the composition root built. */
export interface PipelineParts {
  env: Env;
  overrides: Overrides;
  parts: Parts;
  tokens: TokenProvider;
  clientFor: ReturnType<typeof installationClients>["clientFor"];
  reporter: CheckRunReporter;
  store: Store;
  links: HmacLinks;
  metrics: PrometheusMetrics;
  log: Logger;
  workDir: string;
  /** microship's own secret store; overrides.secrets replaces it (tests). */
  secrets: SecretSource | null;
}

export function pipelineDeps({ env, overrides, parts, tokens, clientFor, reporter, store, links, metrics, log, workDir, secrets }: PipelineParts): PipelineDeps {
  const gitBaseUrl = env.GHE_HOST ? `${env.GHE_PROTOCOL ?? "https"}://${env.GHE_HOST}` : "https://github.com";
  return {
    source: new GitCheckout({ tokens, gitBaseUrl, workDir, maxBytes: env.MICROSHIP_SOURCE_MAX_MIB * 1024 * 1024, maxFiles: env.MICROSHIP_SOURCE_MAX_FILES }),
    config: new RepoConfigSource(clientFor),
    planner: parts.planner,
    describePlan: renderDetectionStory,
    archiver: parts.archiver,
    builder: parts.builder,
    images: parts.images,
    registryCredentials: overrides.registryCredentials ?? parts.registryCredentials,
    reporter,
    store,
    secrets: overrides.secrets !== undefined ? overrides.secrets : secrets,
    links,
    metrics,
    log,
    workDir,
    buildTimeoutSeconds: env.MICROSHIP_BUILD_TIMEOUT,
    buildTimeoutMaxSeconds: env.MICROSHIP_BUILD_TIMEOUT_MAX,
    logMaxBytes: env.MICROSHIP_LOG_MAX_MB * 1_000_000,
    progressIntervalMs: overrides.progressIntervalMs ?? 5_000,
  };
}
