import type { BuildRecord } from "../core/build.ts";
import type { LogLine } from "../core/builder.ts";
import { renderSummary } from "../github/reporter/render-summary.ts";
import { redact } from "../core/redact.ts";

/**
 * The log page, in three parts so it can be streamed: the head, the log's lines page by page,
 * and the end. Nothing from the build is written unescaped.
 */

// The page's only style, allowed by its hash in the CSP: no inline style anyone else writes applies.
export const PAGE_STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#0d1117;color:#e6edf3}
header{padding:16px 24px;border-bottom:1px solid #30363d}
h1{font-size:18px;margin:0 0 4px}
a{color:#58a6ff}
.state{color:#7d8590}
pre{margin:0;padding:16px 24px;font:12px/1.5 ui-monospace,monospace;white-space:pre-wrap;word-break:break-word}
.system{color:#58a6ff}.stderr{color:#f0b72f}
details{padding:0 24px 12px}
`;

export const PAGE_END = "</pre>\n</body></html>\n";

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Terminal colour codes, then any other control character: the page shows text, not a terminal's
// state. The three classes are disjoint, so the pattern cannot backtrack.
const CSI = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;
const STREAMS = new Set(["stdout", "stderr", "system"]);

export interface PageView {
  /** Links carry the request's own expiry: reading a page must not extend a link's life. */
  selfUrl: string;
  logUrl: string;
  totalBytes: number;
  skippedBytes: number;
}

export function pageHead(build: BuildRecord, view: PageView): string {
  const { owner, repo, sha } = build.request;
  const live = build.state !== "completed";
  const status = live ? build.state : `${build.state}: ${build.conclusion}`;
  const summary = build.outcome ? escape(renderSummary(build, build.outcome, view.selfUrl)) : "";
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  const partial = view.skippedBytes > 0
    ? `<div class="state">Showing the last ${mib(view.totalBytes - view.skippedBytes)} of about ${mib(view.totalBytes)}. <a href="${escape(view.logUrl)}">The whole log as text</a>.</div>`
    : `<div class="state"><a href="${escape(view.logUrl)}">The log as text</a></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${live ? '<meta http-equiv="refresh" content="5">' : ""}
<title>microship · ${escape(owner)}/${escape(repo)}@${escape(sha.slice(0, 12))}</title>
<style>${PAGE_STYLE}</style></head>
<body>
<header><h1>${escape(owner)}/${escape(repo)} @ <code>${escape(sha.slice(0, 12))}</code></h1>
<div class="state">Build ${escape(build.id)} · ${escape(status)}${live ? " · refreshing every 5 s" : ""}</div>
${partial}</header>
${summary ? `<details open><summary>Summary</summary><pre>${summary}</pre></details>` : ""}
<pre id="log">`;
}

const clock = (ts: number) => (Number.isFinite(ts) && Math.abs(ts) < 8.64e15 ? new Date(ts).toISOString().slice(11, 19) : "--:--:--");

export function renderLogLines(lines: LogLine[]): string {
  let out = "";
  for (const l of lines) {
    const stream = STREAMS.has(l.stream) ? l.stream : "stdout";
    const text = redact(String(l.text)).replace(CSI, "").replace(CONTROL, "");
    out += `<span class="${stream}">${clock(l.ts)}  ${escape(text)}</span>\n`;
  }
  return out;
}
