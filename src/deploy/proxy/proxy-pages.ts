const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The 404 page of a deployment host nothing serves. It shows the parsed name only (letters, digits
 * and '-', escaped anyway), never the raw Host header, so a crafted Host can't inject markup.
 */
export function unknownDeploymentPage(name: string | null, domain: string): string {
  const what = name ? `<code>${escapeHtml(name)}.${escapeHtml(domain)}</code> is not` : "This address is not";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>No deployment here</title></head>` +
    `<body><h1>No deployment here</h1><p>${what} a running microship deployment. It may have been removed when its pull request closed, or it was never deployed.</p></body></html>\n`;
}

/**
 * The page a sleeping deployment answers while its VM starts again: a meta refresh (no script, so
 * a strict CSP stays possible) reloads it every `refreshS` seconds until the app itself answers.
 */
export function wakingPage(name: string, domain: string, refreshS: number): string {
  const host = `${escapeHtml(name)}.${escapeHtml(domain)}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${Math.max(1, Math.floor(refreshS))}"><title>Waking up</title></head>` +
    `<body><h1>Waking up</h1><p><code>${host}</code> was asleep after a while without visitors. It is starting again; this page reloads by itself.</p></body></html>\n`;
}

/** The page of a sleeping deployment whose last start failed: it is tried again after `retryInS`. */
export function wakeFailedPage(name: string, domain: string, retryInS: number): string {
  const host = `${escapeHtml(name)}.${escapeHtml(domain)}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${Math.max(1, Math.floor(retryInS))}"><title>Could not wake up</title></head>` +
    `<body><h1>Could not wake up</h1><p><code>${host}</code> was asleep and did not start again. It is tried again in ${Math.max(1, Math.floor(retryInS))} s.</p></body></html>\n`;
}
