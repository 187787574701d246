import type { GitHubRequester } from "./check-run-reporter.ts";

/** The hidden marker that finds the one preview comment of a pull request. */
export const PREVIEW_MARKER = "<!-- microship:preview -->";
const ROW = "<!-- microship:app:";
const MAX_ROWS = 50;
const PER_PAGE = 100;
const MAX_PAGES = 10;

export interface PreviewRow {
  /** The app of a multi-app repo, or null. */
  app: string | null;
  line: string;
  /** Drops every other app's line (the preview as a whole is gone). */
  only?: boolean;
}

/**
 * Writes this app's line into the pull request's one preview comment: found by its marker
 * among our own comments (a user's comment that quotes the marker is not ours to edit), edited
 * in place, created again when someone deleted it. Other apps' lines are kept.
 */
export async function upsertPreviewComment(gh: GitHubRequester, where: { owner: string; repo: string; issue_number: number }, row: PreviewRow): Promise<void> {
  const found = await findComment(gh, where);
  const body = renderComment(found?.body ?? null, row);
  if (found) {
    try {
      await gh.request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", { owner: where.owner, repo: where.repo, comment_id: found.id, body });
      return;
    } catch (err) {
      // Deleted between our read and our edit: write it anew.
      if ((err as { status?: number }).status !== 404) throw err;
    }
  }
  await gh.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...where, body });
}

async function findComment(gh: GitHubRequester, where: { owner: string; repo: string; issue_number: number }): Promise<{ id: number; body: string } | null> {
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { data } = await gh.request("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...where, per_page: PER_PAGE, page });
    const comments = (Array.isArray(data) ? data : []) as { id: number; body?: string; user?: { type?: string } | null }[];
    const ours = comments.find((c) => c.user?.type === "Bot" && typeof c.body === "string" && c.body.startsWith(PREVIEW_MARKER));
    if (ours) return { id: Number(ours.id), body: ours.body! };
    if (comments.length < PER_PAGE) return null;
  }
  return null;
}

/** The comment with `row` in place of that app's old line, the other apps' lines kept in order. */
export function renderComment(previous: string | null, row: PreviewRow): string {
  const marker = `${ROW}${row.app ?? ""} -->`;
  const kept = (row.only ? "" : previous ?? "")
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.startsWith(ROW) && !l.startsWith(marker))
    .slice(0, MAX_ROWS - 1);
  const rows = [...kept, `${marker} ${row.line}`].sort();
  return [PREVIEW_MARKER, "### Preview", "", ...rows.map((r) => `${r}  `), "", "<sub>Updated by microship on each push; removed when the pull request closes.</sub>"].join("\n");
}
