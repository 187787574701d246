/**
 * A throwaway Postgres cluster for tests: initdb into a temp dir, a server listening only on a
 * unix socket in that dir (no TCP), fsync off. `database()` makes a fresh, empty database and
 * returns its URL; `stop()` stops the server and deletes the dir.
 *
 * initdb refuses to run as root, and tests run as root in CI: then the cluster runs as `nobody`
 * (setpriv), in a dir that user owns. The server is this process's child and dies with it. Without Postgres installed the helper throws and says how
 * to get it (scripts/host-deps.sh --test installs it).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);
const BIN = process.env.MICROSHIP_TEST_PG_BIN ?? "/usr/lib/postgresql/15/bin";
const NOBODY = { uid: 65534, gid: 65534 };

export interface PostgresCluster {
  /** The socket dir: a URL's host. */
  socketDir: string;
  /** A new empty database, by URL. */
  database(): Promise<string>;
  /** Stops the server as `pg_ctl stop -m fast` does (SIGINT: sessions cut, a clean checkpoint) and keeps it down for `downMs`, then starts it again on the same data. */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export function clusterUrl(socketDir: string, db: string): string {
  return `postgresql://postgres@localhost/${db}?host=${encodeURIComponent(socketDir)}`;
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  if (!existsSync(join(BIN, "initdb")) || !existsSync(join(BIN, "postgres"))) {
    throw new Error(`Postgres is not installed (no initdb in ${BIN}): run scripts/host-deps.sh --test, or apt-get install postgresql`);
  }
  const root = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), "ms-pg-"));
  const data = join(dir, "data");
  const socketDir = join(dir, "s");
  await mkdir(socketDir);
  if (root) {
    await chown(dir, NOBODY.uid, NOBODY.gid);
    await chown(socketDir, NOBODY.uid, NOBODY.gid);
  }
  // setpriv drops root for initdb and the server (which refuse it), and ties the server's life
  // to this process: killed, it takes the server with it instead of leaving it running.
  const as = (cmd: string, extra: string[] = []) => [
    "setpriv", ...(root ? ["--reuid", String(NOBODY.uid), "--regid", String(NOBODY.gid), "--clear-groups"] : []), ...extra, "--", join(BIN, cmd),
  ];
  let server: ChildProcess | null = null;
  try {
    const [cmd, ...args] = as("initdb");
    await run(cmd!, [...args, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]);
    server = await startServer(as("postgres", ["--pdeathsig", "KILL"]), data, socketDir);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let n = 0;
  return {
    socketDir,
    async database() {
      const name = `t${process.pid}_${n++}`;
      const admin = new pg.Client({ connectionString: clusterUrl(socketDir, "postgres") });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return clusterUrl(socketDir, name);
    },
    async restart(downMs) {
      if (server && server.exitCode === null && server.signalCode === null) {
        const exited = once(server, "exit");
        server.kill("SIGINT");
        await exited;
      }
      await new Promise((ok) => setTimeout(ok, downMs));
      server = await startServer(as("postgres", ["--pdeathsig", "KILL"]), data, socketDir);
    },
    async stop() {
      try {
        if (server && server.exitCode === null && server.signalCode === null) {
          const exited = once(server, "exit");
          server.kill("SIGQUIT"); // immediate shutdown: nothing here is worth keeping
          await exited;
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The server in the foreground, as our child; resolves once it accepts connections. */
function startServer(command: string[], data: string, socketDir: string): Promise<ChildProcess> {
  const [cmd, ...args] = command;
  const settings = ["listen_addresses=", `unix_socket_directories=${socketDir}`, "fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200"];
  const server = spawn(cmd!, [...args, "-D", data, ...settings.flatMap((c) => ["-c", c])], { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => fail(new Error(`Postgres did not start in 60 s:\n${log}`)), 60_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      server.kill("SIGKILL");
      reject(err);
    };
    server.stderr!.on("data", (chunk) => {
      log = (log + chunk).slice(-20_000);
      if (log.includes("database system is ready to accept connections")) {
        clearTimeout(timer);
        resolve(server);
      }
    });
    server.once("error", fail);
    server.once("exit", (code, signal) => fail(new Error(`Postgres exited (${code ?? signal}) before it was ready:\n${log}`)));
  });
}
