import type { LogLine } from "../../core/builder.ts";
import { tailWithinBytes } from "./truncate.ts";

const FENCE = "```";

/** The check run's text: the log tail in a code block, within GitHub's byte limit. */
export function renderLogTail(lines: LogLine[], heading: string): string {
  const body = lines.map((l) => (l.stream === "system" ? `» ${l.text}` : l.text)).join("\n").replaceAll(FENCE, "`\u200b``");
  const frame = `### ${heading}\n\n${FENCE}text\n\n${FENCE}\n`;
  return `### ${heading}\n\n${FENCE}text\n${tailWithinBytes(body, 65_535 - Buffer.byteLength(frame) - 16)}\n${FENCE}\n`;
}
