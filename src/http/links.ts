import { createHmac, timingSafeEqual } from "node:crypto";
import type { LinkSigner } from "../core/ports.ts";

/**
 * Capability links for build pages: an HMAC of the build id, so whoever can see the check run
 * can read its log, and nobody can guess another build's.
 */
export class HmacLinks implements LinkSigner {
  private readonly secret: string;
  private readonly baseUrl: string;

  constructor(secret: string, baseUrl: string) {
    this.secret = secret;
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  token(buildId: string): string {
    return createHmac("sha256", this.secret).update(`build-log:${buildId}`).digest("base64url").slice(0, 32);
  }

  verify(buildId: string, token: unknown): boolean {
    if (typeof token !== "string") return false;
    const want = Buffer.from(this.token(buildId));
    const got = Buffer.from(token);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  detailsUrl(buildId: string): string {
    return `${this.baseUrl}/builds/${encodeURIComponent(buildId)}?token=${this.token(buildId)}`;
  }
}
