import type { BuildRecord } from "../build.ts";
import type { Store } from "../store.ts";
import type { ImageDeployRequest, ImageStep } from "./image-deploy.ts";
import type { DeployHistoryEntry } from "./rollback-choice.ts";

/** What a deploy of an earlier image is checked against: the entry's build in our store. */
type Entry = Pick<DeployHistoryEntry, "buildId" | "sha" | "imageRef" | "digest">;

/**
 * The step for one GitHub history entry, if its build is ours (this repo, this sha), its own
 * deploy did not fail, and (for a single app's build, which records its image) it made that image.
 */
export async function usableStep(store: Store, req: ImageDeployRequest, app: string | null, entry: Entry): Promise<ImageStep | null> {
  const build = await store.getBuild(entry.buildId);
  if (!build || build.request.owner !== req.owner || build.request.repo !== req.repo) return null;
  if (build.request.sha !== entry.sha || (build.outcome?.deploy && !build.outcome.deploy.ok)) return null;
  if (build.outcome?.image && (build.outcome.image.digest !== entry.digest || build.outcome.image.ref !== entry.imageRef)) return null;
  return { build, entry: { imageRef: entry.imageRef, digest: entry.digest }, key: { owner: req.owner, repo: req.repo, app, target: req.target } };
}

/** What serves now, as the deployer lists it. */
export interface ServingImage {
  app: string | null;
  sha: string;
  imageRef: string;
  digest: string;
}

/**
 * A redeploy's step: the build of the serving image, found as a rollback finds one (GitHub's
 * history of the target, rollbacks included, since the image may serve because of one), else
 * the store's latest successful build of the sha that made this very image.
 */
export async function redeployStep(store: Store, req: ImageDeployRequest, history: readonly DeployHistoryEntry[], serving: ServingImage): Promise<ImageStep | null> {
  for (const e of history) {
    if (e.app !== serving.app || e.digest !== serving.digest || e.sha !== serving.sha || e.imageRef !== serving.imageRef) continue;
    const step = await usableStep(store, req, serving.app, e);
    if (step) return step;
  }
  if (serving.app !== null) return null;
  const build = await builtImage(store, req, serving.sha);
  if (build?.outcome?.image?.digest !== serving.digest || build.outcome.image.ref !== serving.imageRef) return null;
  return { build, entry: { imageRef: serving.imageRef, digest: serving.digest }, key: { owner: req.owner, repo: req.repo, app: null, target: req.target } };
}

export type ShaSteps = { ok: true; steps: ImageStep[] } | { ok: false; reason: string };

/**
 * The images of one sha for a deployment made on GitHub: a single app's from its successful
 * build in our store; a multi-app repo's from our deployments of that sha in the target's history.
 * A fork's build deploys only to its own pull request's preview.
 */
export async function shaSteps(store: Store, req: ImageDeployRequest, history: readonly DeployHistoryEntry[], sha: string): Promise<ShaSteps> {
  const none = { ok: false as const, reason: `microship has no image of ${sha.slice(0, 12)} to deploy to ${req.target.environment}` };
  const build = await builtImage(store, req, sha);
  if (build?.outcome?.image) {
    const { ref, digest } = build.outcome.image;
    return { ok: true, steps: [{ build, entry: { imageRef: ref, digest }, key: { owner: req.owner, repo: req.repo, app: null, target: req.target } }] };
  }
  const steps: ImageStep[] = [];
  const apps = new Set<string>();
  for (const e of history) {
    if (e.sha !== sha || e.app === null || apps.has(e.app)) continue;
    const step = await usableStep(store, req, e.app, e);
    if (!step || !forkMayGo(step.build, req)) continue;
    apps.add(e.app);
    steps.push(step);
  }
  return steps.length > 0 ? { ok: true, steps } : none;
}

/** A successful build of the sha that pushed an image: a trusted one first, else a fork's (only to its own preview). */
async function builtImage(store: Store, req: ImageDeployRequest, sha: string): Promise<BuildRecord | null> {
  for (const trusted of [true, false]) {
    const build = await store.latestBuildForSha(req.owner, req.repo, sha, trusted);
    if (!build || build.conclusion !== "success" || !build.outcome?.image || !forkMayGo(build, req)) continue;
    return build;
  }
  return null;
}

/** A fork's image may run only as its own pull request's preview. */
function forkMayGo(build: BuildRecord, req: ImageDeployRequest): boolean {
  if (!build.request.pr?.fork) return true;
  return req.target.kind === "preview" && req.target.slug === `pr-${build.request.pr.number}`;
}
