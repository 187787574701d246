import { DEPLOY_DEFAULTS, type DeployConfig } from "./deploy-config.ts";
import { deployEnv, type DeployTarget } from "./deploy-target.ts";

/** What a deploy of one target runs with, from the config, without secrets. */
export interface DeploySettings {
  port: number;
  health: string;
  env: Record<string, string>;
  expiresAt: Date | null;
  idleMinutes: number | null;
}

/** The config's port, health path, environment and (for a preview) lifetime, or the defaults. */
export function deploySettings(deploy: DeployConfig | undefined, target: DeployTarget, now = Date.now()): DeploySettings {
  const port = deploy?.port ?? DEPLOY_DEFAULTS.port;
  const preview = target.kind === "preview";
  const days = deploy?.preview?.ttl_days ?? DEPLOY_DEFAULTS.ttlDays;
  return {
    port,
    health: deploy?.health ?? DEPLOY_DEFAULTS.health,
    env: deployEnv(deploy, target, port),
    expiresAt: preview ? new Date(now + days * 86_400_000) : null,
    idleMinutes: preview ? deploy?.preview?.idle_minutes ?? DEPLOY_DEFAULTS.idleMinutes : null,
  };
}

export function previewTarget(prNumber: number): DeployTarget {
  const slug = `pr-${prNumber}`;
  return { kind: "preview", environment: `preview/${slug}`, slug, transient: true, production: false };
}

export function environmentTarget(name: string): DeployTarget {
  return { kind: "environment", environment: name, slug: name, transient: false, production: name === "production" };
}
