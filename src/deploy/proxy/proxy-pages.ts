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
