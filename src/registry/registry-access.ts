import type { RegistryGrant } from "./registry-credentials.ts";

/** A request of the distribution API, as distribution's own router would read it. */
export type RegistryRoute =
  | { kind: "ping" }
  | { kind: "catalog" }
  | { kind: "manifest"; name: string; reference: string }
  | { kind: "blob"; name: string; digest: string }
  | { kind: "upload-start"; name: string }
  | { kind: "upload"; name: string; uuid: string }
  | { kind: "tags"; name: string };

export type AccessDecision =
  | { allow: true; /** The query to forward, when it had to change. */ query?: string }
  | { allow: false; status: 401 | 403 | 404 | 405; reason: string };

const MAX_PATH = 2048;
const MAX_QUERY = 4096;
// One component of a repository name (distribution's reference grammar); no nested quantifier
// can overlap, so it runs in linear time.
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,256}$/;
const UUID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Reads a path the way distribution routes it: the name is everything before the route's fixed
 * tail, and since no reference, digest or upload id has a `/`, the last segments alone decide
 * the route. Anything unusual (escapes, `.` segments, empty segments, a name outside the
 * grammar) is no route at all, so the front and the registry can never read one path two ways.
 */
export function parseRegistryPath(path: string): RegistryRoute | null {
  if (path.length > MAX_PATH || !path.startsWith("/v2/")) return null;
  if (path === "/v2/") return { kind: "ping" };
  if (path === "/v2/_catalog") return { kind: "catalog" };
  const segs = path.slice(4).split("/");
  const n = segs.length;
  const name = (k: number): string | null => {
    const parts = segs.slice(0, n - k);
    return parts.length > 0 && parts.every((p) => COMPONENT.test(p)) ? parts.join("/") : null;
  };
  if (n >= 3 && segs[n - 1] === "" && segs[n - 2] === "uploads" && segs[n - 3] === "blobs") {
    const nm = name(3);
    return nm ? { kind: "upload-start", name: nm } : null;
  }
  if (n >= 4 && segs[n - 2] === "uploads" && segs[n - 3] === "blobs" && UUID.test(segs[n - 1]!)) {
    const nm = name(3);
    return nm ? { kind: "upload", name: nm, uuid: segs[n - 1]! } : null;
  }
  if (n >= 3 && segs[n - 2] === "manifests" && (TAG.test(segs[n - 1]!) || DIGEST.test(segs[n - 1]!))) {
    const nm = name(2);
    return nm ? { kind: "manifest", name: nm, reference: segs[n - 1]! } : null;
  }
  if (n >= 3 && segs[n - 2] === "blobs" && DIGEST.test(segs[n - 1]!)) {
    const nm = name(2);
    return nm ? { kind: "blob", name: nm, digest: segs[n - 1]! } : null;
  }
  if (n >= 3 && segs[n - 2] === "tags" && segs[n - 1] === "list") {
    const nm = name(2);
    return nm ? { kind: "tags", name: nm } : null;
  }
  return null;
}

export interface AccessRequest {
  method: string;
  /** The path without the query. */
  path: string;
  /** The raw query, without `?`; "" when none. */
  query: string;
  grant: RegistryGrant | null;
  /** A public mirror (test base images): anyone may pull, only the operator may write. */
  anonymousPull?: boolean;
}

const READ = new Set(["GET", "HEAD"]);

/**
 * Whether the front lets a request through. Nobody deletes. The operator may do the rest. A
 * build credential reaches only names at or below its `{owner}/{repo}` (so `octo/shop` never
 * reaches `octo/shop-evil`), writes manifests only under its own tags or by digest, and reads
 * its namespace only when it is trusted (`pull`). A fork's build reads back only its own tags
 * and manifests by digest (what microship's size and tag calls need), checks which blobs exist
 * (what a push needs), and never reads a blob or lists tags.
 */
export function decideAccess(r: AccessRequest): AccessDecision {
  if (r.query.length > MAX_QUERY) return deny(403, "query too long");
  const route = parseRegistryPath(r.path);
  if (!route) return deny(404, "not a registry API path microship serves");
  if (r.method === "DELETE") return deny(405, "deletes are disabled");
  const g = r.grant;
  if (!g) {
    // The ping still asks for credentials: a client that got 200 there would never send the
    // ones it has, and its pushes would fail. Clients without any go on to read anonymously.
    if (r.anonymousPull && READ.has(r.method) && route.kind !== "catalog" && route.kind !== "ping") return { allow: true };
    return deny(401, "authentication required");
  }
  if (g.kind === "operator") return { allow: true };
  if (route.kind === "ping") return READ.has(r.method) ? { allow: true } : deny(405, "method not allowed");
  if (route.kind === "catalog") return deny(403, "the catalog is not available to builds");
  if (!inScope(route.name, g.scope)) return deny(403, `${route.name} is outside ${g.scope}`);
  switch (route.kind) {
    case "manifest": {
      const own = g.tags.includes(route.reference);
      const digest = DIGEST.test(route.reference);
      if (READ.has(r.method)) return g.pull || own || digest ? { allow: true } : deny(403, "this build may only read its own tags");
      if (r.method === "PUT") return own || digest ? { allow: true } : deny(403, `the tag ${route.reference} is not this build's`);
      return deny(405, "method not allowed");
    }
    case "blob":
      if (r.method === "HEAD") return { allow: true };
      if (r.method === "GET") return g.pull ? { allow: true } : deny(403, "this build may not read blobs");
      return deny(405, "method not allowed");
    case "upload-start": {
      if (r.method !== "POST") return deny(405, "method not allowed");
      const q = new URLSearchParams(r.query);
      const from = q.get("from");
      if (!q.has("mount") && !q.has("from")) return { allow: true };
      // A cross-repository mount would hand over another repository's blob by its digest alone.
      if (g.pull && from !== null && inScope(from, g.scope)) return { allow: true };
      q.delete("mount");
      q.delete("from");
      return { allow: true, query: q.toString() };
    }
    case "upload":
      return ["GET", "PATCH", "PUT"].includes(r.method) ? { allow: true } : deny(405, "method not allowed");
    case "tags":
      return READ.has(r.method) && g.pull ? { allow: true } : deny(403, "this build may not list tags");
  }
}

/** `name` is `scope` or below it; `octo/shop-evil` is not below `octo/shop`. */
export function inScope(name: string, scope: string): boolean {
  return name === scope || name.startsWith(`${scope}/`);
}

function deny(status: 401 | 403 | 404 | 405, reason: string): AccessDecision {
  return { allow: false, status, reason };
}
