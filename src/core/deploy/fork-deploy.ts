import type { DeployConfig } from "./deploy-config.ts";

/**
 * A writer's `/deploy` on a fork's pull request: the approval travels on the BuildRequest of
 * that one sha (a later push is a new request without it), with the deploy settings taken from
 * the base branch's config when the command came, never from the fork's.
 */
export interface ForkDeploy {
  /** Who approved it (login). */
  by: string;
  /** The base branch's `deploy:` cut down to what a fork's preview may have (see forkDeployConfig). */
  deploy: DeployConfig;
}

/**
 * What a fork's approved preview runs with: the base config's port, health path and preview
 * lifetime, and as environment only `preview.env`. Not `deploy.env` (it may hold settings meant
 * for the maintainers' own deploys), not `secrets`, not `release`.
 */
export function forkDeployConfig(base: DeployConfig | undefined | null): DeployConfig {
  const preview = base?.preview ?? {};
  return {
    ...(base?.port !== undefined ? { port: base.port } : {}),
    ...(base?.health !== undefined ? { health: base.health } : {}),
    preview: {
      forks: true,
      ...(preview.enabled !== undefined ? { enabled: preview.enabled } : {}),
      ...(preview.idle_minutes !== undefined ? { idle_minutes: preview.idle_minutes } : {}),
      ...(preview.ttl_days !== undefined ? { ttl_days: preview.ttl_days } : {}),
      env: { ...(preview.env ?? {}) },
    },
  };
}

/** The deploy settings a build deploys with: an approved fork's own, else the build's config. */
export function deployConfigFor(request: { pr: { fork: boolean } | null; forkDeploy?: ForkDeploy | null }, config: DeployConfig | undefined): DeployConfig | undefined {
  if (request.pr?.fork && request.forkDeploy) return request.forkDeploy.deploy;
  return config;
}
