import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
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

export interface EmbeddedRegistryOptions {
  /** The registry keeps config, storage (dataDir/registry/data) and its log here. */
  dataDir: string;
  log: OpLog;
  /** A fixed port; by default a free one is picked. */
  port?: number;
}

const START_ATTEMPTS = 5;
// The header our registry answers with, so a registry another process started on the same port
// in a race is never taken for ours.
const ID_HEADER = "X-Microship-Registry";

/**
 * Debian's docker-registry (distribution 2.8) as a child process on loopback, with its own
 * config and storage under the data dir; never the packaged /etc config, which turns on auth.
 * It is restarted with backoff if it dies, and stopped with the app.
 */
export async function startEmbeddedRegistry(o: EmbeddedRegistryOptions): Promise<EmbeddedRegistry> {
  const dir = join(o.dataDir, "registry");
  mkdirSync(join(dir, "data"), { recursive: true });
  const id = randomBytes(8).toString("hex");
  const config = join(dir, `config-${id}.yml`);
  let child: ResultPromise | null = null;
  let stopping = false;
  let port = 0;

  const spawnOnce = () => {
    const logFile = { file: join(dir, "registry.log"), append: true };
    const c = execa(...withParentDeath(["docker-registry", "serve", config]), { stdin: "ignore", stdout: logFile, stderr: logFile, reject: false, cleanup: true, extendEnv: false, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    child = c;
    return c;
  };

  // distribution can't bind port 0: pick a free port, and pick again if someone takes it first.
  for (let attempt = 1; ; attempt++) {
    port = o.port ?? (await freePort());
    writeFileSync(config, registryConfig(join(dir, "data"), port, id));
    const c = spawnOnce();
    const up = await waitUntilUp(`127.0.0.1:${port}`, id, c, 10_000);
    if (up === "up") break;
    if (c.exitCode === null) c.kill("SIGKILL");
    await c;
    if (attempt >= START_ATTEMPTS || o.port !== undefined) {
      throw infraError(`The embedded registry did not start on 127.0.0.1:${port} (${up}); see ${join(dir, "registry.log")}.`, {
        title: "Registry did not start",
        hint: "Is Debian's docker-registry installed (scripts/host-deps.sh)? Or set MICROSHIP_REGISTRY to a registry of your own.",
      });
    }
  }
  const address = `127.0.0.1:${port}`;

  let restarts = 0;
  const watch = (c: ResultPromise) => {
    void c.then((r) => {
      if (stopping) return;
      restarts++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(restarts, 7));
      o.log.error({ exitCode: r.exitCode, signal: r.signal, delay, address }, "embedded registry exited; restarting it");
      setTimeout(() => {
        if (!stopping) watch(spawnOnce());
      }, delay).unref();
    });
  };
  watch(child!);
  o.log.info({ address }, "embedded registry started");
  return {
    address,
    async stop() {
      stopping = true;
      const c = child as ResultPromise | null;
      if (c && c.exitCode === null && c.signalCode === null) {
        c.kill("SIGTERM");
        const timer = setTimeout(() => c.kill("SIGKILL"), 5_000);
        await c;
        clearTimeout(timer);
      }
      rmSync(config, { force: true });
    },
  };
}

/**
 * The registry dies with us, even when we are killed with SIGKILL and can't stop it: an orphan
 * would keep the port and the storage. setpriv (util-linux, always on Debian) sets the
 * parent-death signal before it execs.
 */
export function withParentDeath(argv: string[]): [string, string[]] {
  return existsSync("/usr/bin/setpriv") ? ["/usr/bin/setpriv", ["--pdeathsig", "TERM", ...argv]] : [argv[0]!, argv.slice(1)];
}

function registryConfig(dataDir: string, port: number, id: string): string {
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${dataDir}`,
    "  delete:",
    "    enabled: true",
    "  cache:",
    "    blobdescriptor: inmemory",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    // Only signs upload state between requests of one process; not a credential.
    `  secret: ${id}`,
    "  headers:",
    `    ${ID_HEADER}: ["${id}"]`,
    "",
  ].join("\n");
}

async function waitUntilUp(address: string, id: string, c: ResultPromise, timeoutMs: number): Promise<"up" | "exited" | "timeout"> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (c.exitCode !== null || c.signalCode !== null) return "exited";
    try {
      // Bounded: whatever else holds the port may accept and never answer.
      const r = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(1_000) });
      if (r.status === 200 && r.headers.get(ID_HEADER) === id) return "up";
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return "timeout";
}
