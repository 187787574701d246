/** GitHub's output fields hold 65,535 characters, and in practice it counts bytes of UTF-8. */
export const GITHUB_TEXT_LIMIT = 65_535;

const byteLength = (s: string) => Buffer.byteLength(s, "utf8");

/**
 * Keeps the end of `text` within `maxBytes` of UTF-8, cut on a line boundary, with a first line
 * saying how much was left out. The end of a log is where a build's failure is.
 */
export function tailWithinBytes(text: string, maxBytes: number = GITHUB_TEXT_LIMIT): string {
  if (byteLength(text) <= maxBytes) return text;
  const lines = text.split("\n");
  const kept: string[] = [];
  let size = 0;
  const markerRoom = 120;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    const add = byteLength(line) + 1;
    if (size + add > maxBytes - markerRoom) break;
    kept.unshift(line);
    size += add;
  }
  if (kept.length === 0) {
    // One line longer than the limit: keep its end, on a character boundary.
    const last = lines[lines.length - 1] ?? "";
    const buf = Buffer.from(last, "utf8");
    let tail = buf.subarray(buf.length - (maxBytes - markerRoom)).toString("utf8").replace(/^\uFFFD+/, "");
    kept.push(tail);
    size = byteLength(tail);
  }
  const omittedLines = lines.length - kept.length;
  const omittedBytes = byteLength(text) - size;
  const marker = `… ${omittedLines} earlier line${omittedLines === 1 ? "" : "s"} (${omittedBytes} bytes) left out; the full log is on the build page.`;
  return `${marker}\n${kept.join("\n")}`;
}

/** Cuts a Markdown field to the limit from its end, for summaries that grow too large. */
export function headWithinBytes(text: string, maxBytes: number = GITHUB_TEXT_LIMIT): string {
  if (byteLength(text) <= maxBytes) return text;
  const note = "\n\n… cut to fit GitHub's limit; the full report is on the build page.";
  const buf = Buffer.from(text, "utf8").subarray(0, maxBytes - byteLength(note));
  return buf.toString("utf8").replace(/\uFFFD+$/, "") + note;
}
