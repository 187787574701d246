import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { PAGE_STYLE } from "./build-page.ts";

/**
 * Headers every answer carries, pages and errors alike. Four constants of our own rather than
 * helmet: the pages run no script and load nothing, so the policy is one short line, and
 * helmet's other defaults (HSTS above all) are the deployment's choice, not the app's.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${createHash("sha256").update(PAGE_STYLE).digest("base64")}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

export function securityHeaders(_req: IncomingMessage, res: ServerResponse, next: () => void): void {
  for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
  next();
}
