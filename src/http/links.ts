import { createHmac, timingSafeEqual } from "node:crypto";
import type { LinkSigner } from "../core/ports.ts";

const DAY_MS = 86_400_000;
const TOKEN = /^[A-Za-z0-9_-]{32}$/;
const EXP = /^\d{1,12}$/;

export type LinkCheck = "valid" | "expired" | "invalid";

/**
 * Capability links for build pages: an HMAC of the build id and an expiry time, so whoever can
 * see the check run can read its log for a while, and nobody can guess another build's.
 */
export class HmacLinks implements LinkSigner {
  private readonly secret: Buffer;
  private readonly baseUrl: () => string;
  private readonly lifetimeMs: number;
  private readonly now: () => number;

  /** A function base is asked at each link: microship's own URL may depend on the port it got (PORT=0). */
  constructor(secret: string | Buffer, baseUrl: string | (() => string), lifetimeDays = 30, now: () => number = Date.now) {
    this.secret = Buffer.from(secret);
    this.baseUrl = typeof baseUrl === "string" ? () => baseUrl : baseUrl;
    this.lifetimeMs = lifetimeDays * DAY_MS;
    this.now = now;
  }

  /** Unix seconds. The id and the expiry are joined by a byte neither can contain. */
  token(buildId: string, exp: number): string {
    return createHmac("sha256", this.secret).update(`build-log\n${buildId}\n${exp}`).digest("base64url").slice(0, 32);
  }

  /** "expired" only for a token this app signed: a forged one learns nothing about the build. */
  check(buildId: string, exp: unknown, token: unknown): LinkCheck {
    if (typeof token !== "string" || typeof exp !== "string" || !TOKEN.test(token) || !EXP.test(exp)) return "invalid";
    const want = Buffer.from(this.token(buildId, Number(exp)));
    if (!timingSafeEqual(want, Buffer.from(token))) return "invalid";
    return Number(exp) * 1000 <= this.now() ? "expired" : "valid";
  }

  /**
   * The expiry is rounded up to a whole day, so the link stays the same across a build's many
   * check-run updates instead of changing with every one.
   */
  detailsUrl(buildId: string): string {
    const exp = Math.ceil((this.now() + this.lifetimeMs) / DAY_MS) * (DAY_MS / 1000);
    return `${this.baseUrl().replace(/\/+$/, "")}/builds/${encodeURIComponent(buildId)}?exp=${exp}&token=${this.token(buildId, exp)}`;
  }
}
