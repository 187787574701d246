import type { BuildRecord } from "../core/build.ts";
import type { LogLine } from "../builder/builder.ts";
import { renderSummary } from "../reporter/render-summary.ts";
import { redact } from "../log/redact.ts";

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The full log behind a check run's details link. While the build runs, the page refreshes itself. */
export function renderBuildPage(build: BuildRecord, lines: LogLine[], selfUrl: string): string {
  const { owner, repo, sha } = build.request;
  const live = build.state !== "completed";
  const status = live ? build.state : `${build.state}: ${build.conclusion}`;
  const summary = build.outcome ? escape(renderSummary(build, build.outcome, selfUrl)) : "";
  const log = lines
    .map((l) => `<span class="${l.stream}">${escape(new Date(l.ts).toISOString().slice(11, 19))}  ${escape(redact(l.text))}</span>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${live ? '<meta http-equiv="refresh" content="5">' : ""}
<title>microship · ${escape(owner)}/${escape(repo)}@${escape(sha.slice(0, 12))}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#0d1117;color:#e6edf3}
header{padding:16px 24px;border-bottom:1px solid #30363d}
h1{font-size:18px;margin:0 0 4px}
.state{color:#7d8590}
pre{margin:0;padding:16px 24px;font:12px/1.5 ui-monospace,monospace;white-space:pre-wrap;word-break:break-word}
.system{color:#58a6ff}.stderr{color:#f0b72f}
details{padding:0 24px 12px}
</style></head>
<body>
<header><h1>${escape(owner)}/${escape(repo)} @ <code>${escape(sha.slice(0, 12))}</code></h1>
<div class="state">Build ${escape(build.id)} · ${escape(status)}${live ? " · refreshing every 5 s" : ""} · ${lines.length} lines</div></header>
${summary ? `<details open><summary>Summary</summary><pre>${summary}</pre></details>` : ""}
<pre id="log">${log}</pre>
</body></html>`;
}
