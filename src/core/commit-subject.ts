import { cleanLogText, cutAt } from "./log-text.ts";

/** The dashboard shows this much of a commit's first line; the rest stays on GitHub. */
export const SUBJECT_CHARS = 200;

/**
 * A commit message as the builds list shows it: its first line, cut before it is cleaned (so a
 * huge message costs no more than a short one), terminal escapes and control characters gone as
 * in logs, at most SUBJECT_CHARS; null when nothing is left. Text, never markup: views escape it.
 */
export function commitSubject(message: unknown): string | null {
  if (typeof message !== "string") return null;
  const line = cleanLogText(message.slice(0, SUBJECT_CHARS * 4).split(/\r?\n/, 1)[0]!).trim();
  return line ? line.slice(0, cutAt(line, SUBJECT_CHARS)) : null;
}
