import type { Request } from "express";
import type { Session } from "./session.ts";
import { sameToken } from "./session.ts";

const MAX_FORM_BYTES = 4096;

/**
 * The form a POST carries, if its CSRF token is the session's. The body was already read (and
 * bounded) by the webhook body limit, which reads every POST before any route.
 */
export function checkedForm(req: Request, session: Session, maxBytes = MAX_FORM_BYTES): URLSearchParams | null {
  const raw = (req as Request & { rawBody?: Buffer }).rawBody;
  if (!Buffer.isBuffer(raw) || raw.length > maxBytes) return null;
  if (!String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) return null;
  const form = new URLSearchParams(raw.toString("utf8"));
  return sameToken(form.get("_csrf"), session.csrf) ? form : null;
}
