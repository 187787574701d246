import type { Instance } from "@onkernel/hypeman/resources/instances/instances";
import type { DeployInput, LiveDeployment } from "../../core/deployer.ts";

/**
 * What microship writes on each Hypeman instance it starts: enough to rebuild the deployment's
 * key from the instance alone, so listing needs no record of ours (a restart loses nothing, and
 * an orphan is as visible as the rest).
 */
export const MANAGED_TAG = "microship";
const T = {
  owner: "microship-owner", repo: "microship-repo", app: "microship-app", kind: "microship-kind",
  environment: "microship-environment", slug: "microship-slug", installation: "microship-installation", sha: "microship-sha",
  digest: "microship-digest", expires: "microship-expires",
} as const;

export function identityTags(input: DeployInput): Record<string, string> {
  const t = input.target;
  return {
    [MANAGED_TAG]: "1", [T.owner]: input.owner, [T.repo]: input.repo, [T.app]: input.app ?? "", [T.kind]: t.kind,
    [T.environment]: t.environment, [T.slug]: t.slug, [T.installation]: String(input.installationId), [T.sha]: input.sha,
    [T.digest]: input.digest.slice(0, 80), ...(input.expiresAt ? { [T.expires]: input.expiresAt.toISOString() } : {}),
  };
}

/** The tag filter for one repo's instances, or every managed one. */
export function listFilter(repo: { owner: string; repo: string } | null): Record<string, string> {
  return repo ? { [MANAGED_TAG]: "1", [T.owner]: repo.owner, [T.repo]: repo.repo } : { [MANAGED_TAG]: "1" };
}

/** The deployment an instance serves; null for one not started by this microship (or by an older one). */
export function liveDeployment(i: Instance, url: string): LiveDeployment | null {
  const tags = i.tags ?? {};
  const owner = tags[T.owner], repo = tags[T.repo], kind = tags[T.kind], environment = tags[T.environment], slug = tags[T.slug];
  const installationId = Number(tags[T.installation]);
  if (tags[MANAGED_TAG] !== "1" || !owner || !repo || !environment || !slug || !Number.isSafeInteger(installationId)) return null;
  if (kind !== "preview" && kind !== "environment") return null;
  return {
    owner, repo, app: tags[T.app] || null, installationId, sha: tags[T.sha] ?? "",
    target: { kind, environment, slug, transient: kind === "preview", production: kind === "environment" && environment === "production" },
    instance: i.name, url, imageRef: i.image, digest: tags[T.digest] ?? "",
    createdAt: new Date(i.created_at), expiresAt: dateOr(tags[T.expires]), state: stateOf(i),
  };
}

/** What an instance's state and health mean to list(): Standby is asleep, health decides running. */
export function stateOf(i: Instance): LiveDeployment["state"] {
  if (i.state === "Standby" || i.state === "Paused") return "sleeping";
  if (i.state === "Stopped" || i.state === "Shutdown") return "stopped";
  if (i.state === "Unknown" || i.health_status?.status === "unhealthy") return "failed";
  return i.state === "Running" && i.health_status?.status !== "unknown" && i.health_status?.status !== "starting" ? "running" : "starting";
}

function dateOr(text: string | undefined): Date | null {
  const d = text ? new Date(text) : null;
  return d && Number.isFinite(d.getTime()) ? d : null;
}
