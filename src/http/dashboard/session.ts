import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Request, Response } from "express";

export const SESSION_COOKIE = "ms_session";
export const STATE_COOKIE = "ms_oauth";
/** GitHub's user-to-server tokens last eight hours; a session no longer. */
export const SESSION_SECONDS = 8 * 3600;
export const STATE_SECONDS = 600;
const MAX_COOKIE_CHARS = 3000;

export interface Session {
  login: string;
  uid: number;
  /** The user's GitHub token: sealed in the cookie, never shown, never logged. */
  token: string;
  /** The CSRF token every form of this session carries. */
  csrf: string;
  /** Unix seconds. */
  exp: number;
}

/**
 * Cookies sealed with AES-256-GCM: the tag signs them, and the cipher keeps the user's GitHub
 * token unreadable to whoever sees the cookie (a proxy's log, the browser's disk). The key is
 * derived from the log links' key, so replicas that share MICROSHIP_LOG_SECRET share sessions.
 */
export class CookieSealer {
  private readonly key: Buffer;
  private readonly secure: boolean;

  constructor(linkSecret: string | Buffer, publicUrl: string) {
    this.key = createHmac("sha256", linkSecret).update("microship dashboard session v1").digest();
    this.secure = publicUrl.startsWith("https:");
  }

  seal(name: string, value: object): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(name));
    const body = Buffer.concat([cipher.update(JSON.stringify(value)), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
  }

  /** The value, or null when it is missing, forged, tampered with, or expired. */
  open<T extends { exp: number }>(name: string, sealed: string | undefined, now = Date.now()): T | null {
    if (!sealed || sealed.length > MAX_COOKIE_CHARS || !/^[A-Za-z0-9_-]+$/.test(sealed)) return null;
    const raw = Buffer.from(sealed, "base64url");
    if (raw.length < 29) return null;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(name));
      decipher.setAuthTag(raw.subarray(12, 28));
      const value = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8")) as T;
      return typeof value.exp === "number" && value.exp * 1000 > now ? value : null;
    } catch {
      return null;
    }
  }

  set(res: Response, name: string, value: object, maxAgeSeconds: number): void {
    res.append("set-cookie", `${name}=${this.seal(name, value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${this.secure ? "; Secure" : ""}`);
  }

  clear(res: Response, name: string): void {
    res.append("set-cookie", `${name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${this.secure ? "; Secure" : ""}`);
  }

  session(req: Request): Session | null {
    return this.open<Session>(SESSION_COOKIE, cookie(req, SESSION_COOKIE));
  }
}

/** One cookie's value from the header, read without a regex over the header. */
export function cookie(req: Request, name: string): string | undefined {
  const header = String(req.headers.cookie ?? "");
  if (header.length > 8192) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export const newToken = () => randomBytes(24).toString("base64url");

/** Constant-time, and false for anything but two equal strings. */
export function sameToken(a: unknown, b: string): boolean {
  if (typeof a !== "string" || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
