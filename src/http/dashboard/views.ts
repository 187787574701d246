import { fileURLToPath } from "node:url";
import type { Response } from "express";
import { Eta } from "eta";
import * as format from "./format.ts";
import type { Session } from "./session.ts";

const VIEWS = fileURLToPath(new URL("./views/", import.meta.url));

/**
 * The dashboard's own policy: scripts and styles only from our files, no inline script or
 * style, no framing, forms only to us. The log pages of capability links keep theirs.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

// Escaped unless a template says <%~ (only the layout's body does).
const eta = new Eta({ views: VIEWS, autoEscape: true, cache: true, useWith: false });

export interface PageData {
  title: string;
  session: Session | null;
  /** A file of static/ the page loads; pages work without it. */
  script?: string;
  [key: string]: unknown;
}

export function renderPage(res: Response, view: string, data: PageData, status = 200): void {
  const html = eta.render(view, { ...data, f: format });
  res.status(status).set({ "content-security-policy": DASHBOARD_CSP, "cache-control": "no-store" }).type("text/html; charset=utf-8").send(html);
}

export function renderMessage(res: Response, status: number, session: Session | null, title: string, text: string): void {
  renderPage(res, "message", { title, session, text }, status);
}
