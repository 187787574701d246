import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { BuildRequest } from "../core/types.ts";
import type { ImageTarget, RegistryCredential, RegistryCredentials } from "../core/ports.ts";
import { repoNamespace } from "./image-name.ts";

/** What a credential lets its holder do at the registry front. */
export type RegistryGrant =
  | { kind: "operator" }
  | {
      kind: "build";
      buildId: string;
      /** `{owner}/{repo}`: every name it touches is this or below it. */
      scope: string;
      /** The only tags it may write (and, without `pull`, read). */
      tags: string[];
      /** Trusted builds may read their own namespace; fork builds only what they push. */
      pull: boolean;
      /** Seconds since the epoch. */
      expires: number;
    };

interface Claims {
  s: string;
  t: string[];
  p: boolean;
  e: number;
  u: string;
}

const OPERATOR = "microship";
const VERSION = "v1";
// Tags are at most 128 characters and a build has a handful; anything longer is not ours.
const MAX_HEADER = 8 * 1024;
// Added to the build's own timeout: the push comes after the build and may be slow.
const PUSH_MARGIN_SECONDS = 15 * 60;

/**
 * Issues and checks the registry front's credentials. The operator credential (microship's own
 * calls, tests) is random per start; a build's credential is its id as the username and, as the
 * password, claims (scope, tags, pull, expiry) with an HMAC under a secret made at start, so
 * nothing is stored and a restart revokes every credential.
 */
export class RegistryCredentialIssuer implements RegistryCredentials {
  readonly operator: RegistryCredential;
  private readonly secret: Buffer;
  private readonly now: () => number;

  constructor(o: { now?: () => number } = {}) {
    this.secret = randomBytes(32);
    this.operator = { username: OPERATOR, password: randomBytes(32).toString("hex") };
    this.now = o.now ?? (() => Date.now());
  }

  forBuild(buildId: string, request: BuildRequest, target: ImageTarget, ttlSeconds: number): RegistryCredential {
    return this.issue({
      buildId,
      scope: repoNamespace(request.owner, request.repo),
      tags: target.tags,
      pull: !(request.pr?.fork ?? false),
      ttlSeconds: ttlSeconds + PUSH_MARGIN_SECONDS,
    });
  }

  /** The general form, for tests and for callers that know the build's scope themselves. */
  issue(o: { buildId: string; scope: string; tags: string[]; pull: boolean; ttlSeconds: number }): RegistryCredential {
    const username = o.buildId.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 128) || "build";
    const claims: Claims = { s: o.scope, t: o.tags, p: o.pull, e: Math.floor(this.now() / 1000) + o.ttlSeconds, u: username };
    const body = `${VERSION}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
    return { username, password: `${body}.${this.mac(body).toString("base64url")}` };
  }

  /** The grant behind an `Authorization` header, or null when it is missing, forged or expired. */
  verify(header: string | undefined): RegistryGrant | null {
    if (!header || header.length > MAX_HEADER) return null;
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header.trim());
    if (!m) return null;
    const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return null;
    const username = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (username === this.operator.username) return same(password, this.operator.password) ? { kind: "operator" } : null;
    const parts = password.split(".");
    if (parts.length !== 3 || parts[0] !== VERSION) return null;
    const body = `${parts[0]}.${parts[1]}`;
    if (!same(parts[2]!, this.mac(body).toString("base64url"))) return null;
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Claims;
    } catch {
      return null;
    }
    if (claims.u !== username || typeof claims.s !== "string" || !Array.isArray(claims.t) || typeof claims.e !== "number") return null;
    if (claims.e * 1000 <= this.now()) return null;
    return { kind: "build", buildId: username, scope: claims.s, tags: claims.t.map(String), pull: claims.p === true, expires: claims.e };
  }

  private mac(body: string): Buffer {
    return createHmac("sha256", this.secret).update(body).digest();
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
