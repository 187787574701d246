/**
 * A throwaway Postgres cluster for tests: initdb into a temp dir, a server listening only on a
 * unix socket in that dir (no TCP), fsync off. `database()` makes a fresh, empty database and
 * returns its URL; `stop()` stops the server and deletes the dir.
 *
 * initdb refuses to run as root, and tests run as root in CI: then the cluster runs as `nobody`
 * (runuser), in a dir that user owns. Without Postgres installed the helper throws and says how
 * to get it (scripts/host-deps.sh --test installs it).
 */
import { execFile } from "node:child_process";
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
  stop(): Promise<void>;
}

export function clusterUrl(socketDir: string, db: string): string {
  return `postgresql://postgres@localhost/${db}?host=${encodeURIComponent(socketDir)}`;
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  if (!existsSync(join(BIN, "initdb")) || !existsSync(join(BIN, "pg_ctl"))) {
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
  const as = (cmd: string, args: string[]) => (root ? run("runuser", ["-u", "nobody", "--", join(BIN, cmd), ...args]) : run(join(BIN, cmd), args));
  try {
    await as("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]);
    const options = `-c listen_addresses='' -k ${socketDir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    await as("pg_ctl", ["-D", data, "-l", join(dir, "server.log"), "-o", options, "-w", "-t", "60", "start"]);
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
    async stop() {
      try {
        await as("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
