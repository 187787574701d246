import { RouteTable } from "./route-table.ts";

/**
 * The route table for MICROSHIP_DEPLOY_DOMAIN. Unset, deployments answer at
 * `http://{name}.localhost:{PORT}` (browsers resolve *.localhost to loopback: no DNS needed); set,
 * URLs take the scheme and port of MICROSHIP_PUBLIC_URL, whose own host is never a deployment.
 */
export function deployRoutes(o: { domain: string | undefined; publicUrl: string | undefined }): RouteTable {
  if (!o.domain) return new RouteTable({ domain: "localhost" });
  const pub = o.publicUrl ? new URL(o.publicUrl) : null;
  return new RouteTable({
    domain: o.domain,
    scheme: pub?.protocol === "https:" ? "https" : "http",
    port: pub ? (pub.port ? Number(pub.port) : null) : undefined,
    ownHost: pub?.hostname ?? null,
  });
}
