import type Hypeman from "@onkernel/hypeman";
import type { Build } from "@onkernel/hypeman/resources/builds";
import type { BuildInput } from "../../core/builder.ts";
import type { BuildIO } from "../builder-shell.ts";
import type { HypemanPool, PoolServer } from "./hypeman-pool.ts";
import { hypemanApiError } from "./hypeman-api-error.ts";
import { neverReached, serverDown, serverFault } from "./server-fault.ts";

/**
 * Creates the build on the pool's server for its scope. A server that fails is left out of the
 * pool; the build moves to another server only when its create never reached the failed one (no
 * connection was made), so a build is never created twice. Any other failure ends the build.
 */
export async function submitToPool(
  pool: HypemanPool,
  input: BuildInput,
  io: BuildIO,
  create: (client: Hypeman) => Promise<Build>,
): Promise<{ server: PoolServer; build: Build }> {
  const tried = new Set<PoolServer>();
  for (;;) {
    input.signal.throwIfAborted();
    const server = await pool.pick(input.cacheScope, tried);
    tried.add(server);
    io.system(`submitting to Hypeman at ${server.host}`);
    try {
      const build = await create(server.client);
      pool.accepted(server, input.cacheScope);
      return { server, build };
    } catch (err) {
      if (input.signal.aborted) throw err;
      if (serverDown(err)) pool.failed(server, err);
      const again = neverReached(err) && tried.size < pool.servers.length;
      if (!again) throw hypemanApiError(err, server.url);
      io.system(`Hypeman at ${server.host} ${serverFault(err)}; the build goes to another server`);
    }
  }
}
