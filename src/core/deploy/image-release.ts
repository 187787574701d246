import type { BuildRecord } from "../build.ts";

/** The release command a deploy of an earlier image runs, and a line for the log when it runs none for a reason worth saying. */
export interface ImageRelease {
  release: string | null;
  note: string | null;
}

/**
 * The command that belongs to the image: what the build's own deploy stage resolved from its
 * commit's config and Procfile (kept in its outcome, per app in a multi-app repo), never the
 * base branch's config now, which may name a command the old image doesn't have. A fork's image
 * runs none, as its preview never does. A build from before the command was kept runs none and
 * says so: guessing from today's config could run a newer migration against old code.
 */
export function imageRelease(build: BuildRecord, app: string | null): ImageRelease {
  if (build.request.pr?.fork) return { release: null, note: null };
  const outcome = build.outcome;
  const kept = app === null ? outcome?.release : outcome?.apps?.find((a) => a.name === app)?.release;
  if (kept === undefined) return { release: null, note: "This build's release command was not recorded (it predates that), so none runs." };
  return { release: kept, note: null };
}
