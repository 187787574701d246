import { createVerify } from "node:crypto";

/** Verifies a GitHub App JWT (RS256, iss = app id) the way GitHub does, with its 60 s clock drift. */
export function verifyAppJwt(token: string, publicKeyPem: string, appId: number, now = Date.now() / 1000): string | null {
  const parts = token.split(".");
  if (parts.length !== 3) return "not a JWT";
  const [h, p, s] = parts as [string, string, string];
  let header: { alg?: string };
  let payload: { iss?: string | number; iat?: number; exp?: number };
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString());
    payload = JSON.parse(Buffer.from(p, "base64url").toString());
  } catch {
    return "undecodable JWT";
  }
  if (header.alg !== "RS256") return `alg ${header.alg} is not RS256`;
  const ok = createVerify("RSA-SHA256").update(`${h}.${p}`).verify(publicKeyPem, Buffer.from(s, "base64url"));
  if (!ok) return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued or bad signature";
  if (String(payload.iss) !== String(appId)) return `iss ${payload.iss} is not app ${appId}`;
  if (typeof payload.exp !== "number" || payload.exp < now - 60) return "'Expiration time' claim ('exp') is too far in the past";
  if (typeof payload.iat !== "number" || payload.iat > now + 60) return "'Issued at' claim ('iat') must be in the past";
  if (payload.exp - payload.iat > 600 + 60) return "'Expiration time' claim ('exp') is too far in the future";
  return null;
}
