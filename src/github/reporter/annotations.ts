import type { BuildOutcome } from "../../core/build.ts";

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
  title?: string;
}

/** GitHub takes at most 50 annotations per request; later updates append. */
export const ANNOTATIONS_PER_REQUEST = 50;

export function annotationsFor(outcome: BuildOutcome): Annotation[] {
  const list: Annotation[] = [];
  if (outcome.error?.location) {
    const { file, line } = outcome.error.location;
    list.push({
      path: file,
      start_line: line ?? 1,
      end_line: line ?? 1,
      annotation_level: outcome.error.kind === "user" ? "failure" : "warning",
      title: outcome.title.slice(0, 255),
      message: [outcome.error.message, outcome.error.hint].filter(Boolean).join("\n\n").slice(0, 64_000),
    });
  }
  for (const m of outcome.messages) {
    if (!m.file || m.level === "info") continue;
    list.push({
      path: m.file,
      start_line: m.line ?? 1,
      end_line: m.line ?? 1,
      annotation_level: m.level === "error" ? "failure" : "warning",
      message: m.text.slice(0, 64_000),
    });
  }
  return list;
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
