/** One deploy of a target, as its GitHub deployment recorded it (the payload). */
export interface DeployHistoryEntry {
  /** The app of a multi-app repo; null for the single app. */
  app: string | null;
  sha: string;
  imageRef: string;
  digest: string;
  /** The build that made and deployed it. */
  buildId: string;
  /** Made by a rollback or a redeploy: not a version of its own. */
  rollback: boolean;
}

/** How far back `/rollback` looks: GitHub's largest page of deployments. */
export const MAX_HISTORY = 100;

/**
 * The images to go back to, best first, for one app of one target: the deploys older than the
 * one running now (`current`, the backend's truth) with another image. Rollback deployments are
 * stepped over, so two `/rollback`s go back two versions rather than back and forth. When
 * nothing in the history runs now (it was deployed some other way), every other image counts.
 */
export function rollbackCandidates(history: readonly DeployHistoryEntry[], app: string | null, current: string | null): DeployHistoryEntry[] {
  const versions = history.slice(0, MAX_HISTORY).filter((e) => e.app === app && !e.rollback);
  const at = current === null ? -1 : versions.findIndex((e) => e.digest === current);
  const seen = new Set<string>(current === null ? [] : [current]);
  const out: DeployHistoryEntry[] = [];
  for (const e of versions.slice(at + 1)) {
    if (seen.has(e.digest)) continue;
    seen.add(e.digest);
    out.push(e);
  }
  return out;
}
