import { createHmac, timingSafeEqual } from "node:crypto";

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

/** A token as Hypeman's `make gen-jwt` makes it: HS256 over {sub, iat, exp}. */
export function signJwt(secret: string, claims: { sub: string; ttlSeconds?: number; now?: number }): string {
  const iat = Math.floor((claims.now ?? Date.now()) / 1000);
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({ sub: claims.sub, iat, exp: iat + (claims.ttlSeconds ?? 3600) }));
  return `${head}.${body}.${b64url(createHmac("sha256", secret).update(`${head}.${body}`).digest())}`;
}

/** Why a bearer token is refused, or null when it is good. */
export function jwtProblem(secret: string, authorization: string | undefined): string | null {
  const m = /^Bearer (\S+)$/.exec(authorization ?? "");
  if (!m) return "missing bearer token";
  const parts = m[1]!.split(".");
  if (parts.length !== 3) return "malformed token";
  const [head, body, sig] = parts as [string, string, string];
  let header: { alg?: string };
  let claims: { sub?: unknown; iat?: unknown; exp?: unknown };
  try {
    header = JSON.parse(Buffer.from(head, "base64url").toString());
    claims = JSON.parse(Buffer.from(body, "base64url").toString());
  } catch {
    return "malformed token";
  }
  if (header.alg !== "HS256") return "unsupported algorithm";
  const want = createHmac("sha256", secret).update(`${head}.${body}`).digest();
  const got = Buffer.from(sig, "base64url");
  if (got.length !== want.length || !timingSafeEqual(got, want)) return "invalid signature";
  if (typeof claims.sub !== "string" || typeof claims.iat !== "number" || typeof claims.exp !== "number") return "missing claims";
  if (claims.exp * 1000 < Date.now()) return "token expired";
  return null;
}
