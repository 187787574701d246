import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { freePort } from "./free-port.ts";
import { infraError } from "../core/errors.ts";
import type { OpLog } from "../core/ports.ts";

export interface EmbeddedRegistry {
  /** 127.0.0.1:PORT */
  address: string;
  stop(): Promise<void>;
}

/**
 * Debian's docker-registry (distribution 2.8) as a child process on loopback, with its own
 * config and storage under the data dir; never the packaged /etc config, which turns on auth.
 * It is restarted if it dies, and stopped with the app.
 */
export async function startEmbeddedRegistry(o: { dataDir: string; log: OpLog; port?: number }): Promise<EmbeddedRegistry> {
  const dir = join(o.dataDir, "registry");
  mkdirSync(join(dir, "data"), { recursive: true });
  const port = o.port ?? (await freePort());
  const config = join(dir, "config.yml");
  writeFileSync(config, [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "  cache:",
    "    blobdescriptor: inmemory",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "  secret: microship-embedded-registry",
    "",
  ].join("\n"));
  const address = `127.0.0.1:${port}`;
  let child: ResultPromise | null = null;
  let stopping = false;
  let restarts = 0;

  const spawnOnce = () => {
    const logFile = { file: join(dir, "registry.log"), append: true };
    child = execa("docker-registry", ["serve", config], { stdin: "ignore", stdout: logFile, stderr: logFile, reject: false, cleanup: true });
    void child.then((r) => {
      if (stopping) return;
      restarts++;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(restarts, 6));
      o.log.error({ exitCode: r.exitCode, signal: r.signal, delay }, "embedded registry exited; restarting");
      setTimeout(() => !stopping && spawnOnce(), delay).unref();
    });
  };
  spawnOnce();
  await waitUntilUp(address, 10_000);
  o.log.info({ address }, "embedded registry started");
  return {
    address,
    async stop() {
      stopping = true;
      const c = child as ResultPromise | null;
      if (c && c.exitCode === null) {
        c.kill("SIGTERM");
        await c;
      }
    },
  };
}

async function waitUntilUp(address: string, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    try {
      const r = await fetch(`http://${address}/v2/`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw infraError(`the embedded registry did not answer on ${address} within ${timeoutMs} ms (see registry.log under the data dir)`);
}
