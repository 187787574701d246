import type { Route, RouteTable, WakeStatus } from "./route-table.ts";

/**
 * What the deploy proxy does with one request's Host:
 * - `other`: not a deployment's host, microship's own routes answer;
 * - `unknown`: a deployment host nothing serves (404 page); `name` is null when it was malformed;
 * - `forward`: to `target` (an origin URL), Host kept;
 * - `asleep`: the waking or wake-failed page (503), a wake having been asked for.
 * `name` is what the pages show before the domain.
 */
export type Resolved =
  | { kind: "other" }
  | { kind: "unknown"; name: string | null }
  | { kind: "forward"; name: string; target: string; route?: Route }
  | { kind: "asleep"; name: string; wake: WakeStatus };

/**
 * Where the deploy proxy looks a Host up: microship's own route table (the microvm deployer's
 * VMs) or the Hypeman wake layer. A host that isn't a deployment's is said at once (`other`, never
 * in a promise), so a server's 'upgrade' event knows at once whether the socket is the proxy's.
 */
export interface RouteSource {
  readonly domain: string;
  resolve(host: string | undefined): Resolved | Promise<Exclude<Resolved, { kind: "other" }>>;
  /**
   * For `https:` targets: the PEM CA their certificates are checked against instead of Node's
   * store. Either way the check (and SNI) is for the request's own Host, the deployment's name.
   */
  readonly upstreamCa?: string | null;
  /** The port microship's server listens on, for the URLs the source gives out. */
  listening?(port: number): void;
}

/** The route table as a source: a request counts for idle accounting; a sleeping route's VM is asked to start. */
export function tableSource(routes: RouteTable): RouteSource {
  return {
    domain: routes.domain,
    listening: (port) => routes.listening(port),
    resolve(host) {
      const found = routes.lookup(host);
      if (found.kind !== "route") return found;
      const { route } = found;
      routes.touch(route.name);
      if (route.sleeping) return { kind: "asleep", name: route.name, wake: routes.wake(route.name) };
      return { kind: "forward", name: route.name, target: `http://127.0.0.1:${route.port}`, route };
    },
  };
}
