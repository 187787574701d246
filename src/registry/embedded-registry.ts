import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { get as httpGet } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { infraError } from "../core/errors.ts";
import type { OpLog, RegistryCredential } from "../core/ports.ts";
import { RegistryCredentialIssuer } from "./registry-credentials.ts";
import { startRegistryFront, type RegistryFront } from "./registry-front.ts";

export interface EmbeddedRegistry {
  /** 127.0.0.1:PORT of the authenticating front; distribution itself has no TCP port. */
  address: string;
  /** microship's own credential (tagging, tests pulling images); never handed to a build. */
  auth: RegistryCredential;
  /** Issues each build's credential, scoped to its repository and tags. */
  credentials: RegistryCredentialIssuer;
  stop(): Promise<void>;
}

export interface EmbeddedRegistryOptions {
  /** The registry keeps config, storage (dataDir/registry/data) and its log here. */
  dataDir: string;
  log: OpLog;
  /** A fixed port for the front; by default a free one is picked. */
  port?: number;
  /** Anyone may pull: only for a mirror of public base images (tests). Writes still need `auth`. */
  anonymousPull?: boolean;
}

const START_ATTEMPTS = 3;
// The header our registry answers with, so a stale socket answered by another process is never
// taken for ours.
const ID_HEADER = "X-Microship-Registry";
// sun_path holds 108 bytes on Linux.
const MAX_SOCKET_PATH = 100;

/**
 * Debian's docker-registry (distribution 2.8) as a child process, with its own config and
 * storage under the data dir; never the packaged /etc config. It listens only on a unix socket
 * in a directory only we can enter, deletes are off, and the one way in is the front
 * (registry-front.ts), which checks a credential on every request. A build reaches the front
 * (the host builder on loopback, the microVM through 10.0.2.2) but never the registry itself.
 * The registry is restarted with backoff if it dies, and stopped with the app.
 */
export async function startEmbeddedRegistry(o: EmbeddedRegistryOptions): Promise<EmbeddedRegistry> {
  const dir = join(o.dataDir, "registry");
  mkdirSync(join(dir, "data"), { recursive: true });
  const id = randomBytes(8).toString("hex");
  const socketDir = await privateSocketDir(dir);
  const socketPath = join(socketDir.path, `registry-${id}.sock`);
  const stopRegistry = await startRegistryProcess({ dir, id, socketPath, socketDir, log: o.log });

  const credentials = new RegistryCredentialIssuer();
  let front: RegistryFront;
  try {
    front = await startRegistryFront({ socketPath, credentials, log: o.log, anonymousPull: o.anonymousPull, port: o.port });
  } catch (err) {
    await stopRegistry();
    throw infraError(`The embedded registry's front could not listen on 127.0.0.1:${o.port ?? 0}: ${(err as Error).message}`, {
      title: "Registry did not start",
      hint: "Is the port taken? Pick another one, or set MICROSHIP_REGISTRY to a registry of your own (docker-registry must be installed: scripts/host-deps.sh).",
      cause: err,
    });
  }
  o.log.info({ address: front.address }, "embedded registry started");
  return {
    address: front.address,
    auth: credentials.operator,
    credentials,
    async stop() {
      await front.stop();
      await stopRegistry();
    },
  };
}

interface RegistryProcessOptions {
  dir: string;
  id: string;
  socketPath: string;
  socketDir: { path: string; owned: boolean };
  log: OpLog;
}

/** Starts docker-registry (a few attempts), restarts it with backoff if it dies; resolves to its stop. */
async function startRegistryProcess({ dir, id, socketPath, socketDir, log }: RegistryProcessOptions): Promise<() => Promise<void>> {
  const config = join(dir, `config-${id}.yml`);
  let child: ResultPromise | null = null;
  let stopping = false;

  const spawnOnce = () => {
    rmSync(socketPath, { force: true });
    const logFile = { file: join(dir, "registry.log"), append: true };
    const c = execa(...withParentDeath(["docker-registry", "serve", config]), { stdin: "ignore", stdout: logFile, stderr: logFile, reject: false, cleanup: true, extendEnv: false, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    child = c;
    return c;
  };

  writeFileSync(config, registryConfig(join(dir, "data"), socketPath, id), { mode: 0o600 });
  for (let attempt = 1; ; attempt++) {
    const c = spawnOnce();
    const up = await waitUntilUp(socketPath, id, c, 10_000);
    if (up === "up") break;
    if (c.exitCode === null) c.kill("SIGKILL");
    await c;
    if (attempt >= START_ATTEMPTS) {
      rmSync(config, { force: true });
      if (socketDir.owned) rmSync(socketDir.path, { recursive: true, force: true });
      throw infraError(`The embedded registry did not start (${up}); see ${join(dir, "registry.log")}.`, {
        title: "Registry did not start",
        hint: "Is Debian's docker-registry installed (scripts/host-deps.sh)? Or set MICROSHIP_REGISTRY to a registry of your own.",
      });
    }
  }

  let restarts = 0;
  const watch = (c: ResultPromise) => {
    void c.then((r) => {
      if (stopping) return;
      restarts++;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(restarts, 7));
      log.error({ exitCode: r.exitCode, signal: r.signal, delay }, "embedded registry exited; restarting it");
      setTimeout(() => {
        if (!stopping) watch(spawnOnce());
      }, delay).unref();
    });
  };
  watch(child!);

  const stopRegistry = async () => {
    stopping = true;
    const c = child as ResultPromise | null;
    if (c && c.exitCode === null && c.signalCode === null) {
      c.kill("SIGTERM");
      const timer = setTimeout(() => c.kill("SIGKILL"), 5_000);
      await c;
      clearTimeout(timer);
    }
    rmSync(config, { force: true });
    rmSync(socketDir.owned ? socketDir.path : socketPath, { recursive: true, force: true });
  };

  return stopRegistry;
}

/**
 * A directory only our user can enter, for the socket: under the data dir, or a fresh one under
 * the temp dir when the data dir's path is too long for a socket address. Sockets of registries
 * that were killed are removed; a live one (another process sharing the data dir) is kept.
 */
async function privateSocketDir(dir: string): Promise<{ path: string; owned: boolean }> {
  const preferred = join(dir, "run");
  const owned = preferred.length + 40 > MAX_SOCKET_PATH;
  const path = owned ? mkdtempSync(join(tmpdir(), "microship-registry-")) : preferred;
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
  for (const f of readdirSync(path)) {
    if (f.endsWith(".sock") && (await refusesConnections(join(path, f)))) rmSync(join(path, f), { force: true });
  }
  return { path, owned };
}

function refusesConnections(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.setTimeout(1_000, () => s.destroy());
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

/**
 * The registry dies with us, even when we are killed with SIGKILL and can't stop it: an orphan
 * would keep the port and the storage. setpriv (util-linux, always on Debian) sets the
 * parent-death signal before it execs.
 */
export function withParentDeath(argv: string[]): [string, string[]] {
  return existsSync("/usr/bin/setpriv") ? ["/usr/bin/setpriv", ["--pdeathsig", "TERM", ...argv]] : [argv[0]!, argv.slice(1)];
}

function registryConfig(dataDir: string, socketPath: string, id: string): string {
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
    "    enabled: false",
    "  cache:",
    "    blobdescriptor: inmemory",
    "http:",
    "  net: unix",
    `  addr: ${socketPath}`,
    // Upload URLs relative to the request, so they point back at the front whatever name the
    // client reached it by (127.0.0.1 on the host, 10.0.2.2 in the microVM).
    "  relativeurls: true",
    // Only signs upload state between requests of one process; not a credential.
    `  secret: ${id}`,
    "  headers:",
    `    ${ID_HEADER}: ["${id}"]`,
    "",
  ].join("\n");
}

async function waitUntilUp(socketPath: string, id: string, c: ResultPromise, timeoutMs: number): Promise<"up" | "exited" | "timeout"> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (c.exitCode !== null || c.signalCode !== null) return "exited";
    if ((await pingSocket(socketPath)) === id) return "up";
    await new Promise((r) => setTimeout(r, 50));
  }
  return "timeout";
}

/** The registry's id header from GET /v2/ on the socket, or null; bounded to one second. */
function pingSocket(socketPath: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = httpGet({ socketPath, path: "/v2/", timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? String(res.headers[ID_HEADER.toLowerCase()] ?? "") || null : null);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(null));
  });
}
