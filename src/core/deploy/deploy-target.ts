import type { BuildRequest } from "../types.ts";
import type { DeployConfig } from "./deploy-config.ts";

/** Where one build deploys: a pull request's preview or a named environment. */
export interface DeployTarget {
  kind: "preview" | "environment";
  /** The GitHub environment: `preview/pr-{n}` or the environment's name. */
  environment: string;
  /** What names the deployment's instance: `pr-{n}` or the environment's name. */
  slug: string;
  /** Previews go away with their pull request. */
  transient: boolean;
  production: boolean;
}

export type DeployDecision = { deploy: true; target: DeployTarget } | { deploy: false; reason: string };

const PRODUCTION = "production";

/**
 * The deploy rules: a pull request gets a preview (from a fork only with a writer's `/deploy`);
 * a push deploys to the environment whose branch it is, and without `environments` the default
 * branch is `production`. Anything else does not deploy.
 */
export function deployTargetFor(request: BuildRequest, deploy: DeployConfig | undefined): DeployDecision {
  const config = deploy ?? {};
  if (request.pr) {
    const preview = config.preview ?? {};
    if (preview.enabled === false) return { deploy: false, reason: "previews are turned off (deploy.preview.enabled)" };
    // A fork's own config can't opt it in: only a writer's `/deploy` (request.forkDeploy) can.
    if (request.pr.fork && !request.forkDeploy) return { deploy: false, reason: "pull requests from forks get a preview only when someone with write access comments /deploy" };
    const slug = `pr-${request.pr.number}`;
    return { deploy: true, target: { kind: "preview", environment: `preview/${slug}`, slug, transient: true, production: false } };
  }
  if (request.branch === null) return { deploy: false, reason: "the branch is not known" };
  const environments = config.environments ?? { [PRODUCTION]: { branch: request.defaultBranch } };
  // Sorted, so two environments of one branch always pick the same one.
  const name = Object.keys(environments)
    .sort()
    .find((env) => environments[env]!.branch === request.branch);
  if (!name) return { deploy: false, reason: `no environment deploys from branch ${request.branch}` };
  return { deploy: true, target: { kind: "environment", environment: name, slug: name, transient: false, production: name === PRODUCTION } };
}

/** The environment an instance runs with: `deploy.env`, a preview's own on top, then $PORT. */
export function deployEnv(deploy: DeployConfig | undefined, target: DeployTarget, port: number): Record<string, string> {
  const previewEnv = target.kind === "preview" ? deploy?.preview?.env ?? {} : {};
  return { ...(deploy?.env ?? {}), ...previewEnv, PORT: String(port) };
}
