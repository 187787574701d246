import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadEnv } from "../../../src/config/env.ts";
import type { BuildRequest } from "../../../src/core/types.ts";
import { repoSecrets } from "../../../src/secrets-parts.ts";
import { SqliteDatabase } from "../../../src/store/sqlite/sqlite-database.ts";
import { SqliteSecretRows } from "../../../src/store/sqlite/sqlite-secret-rows.ts";
import { SqliteStore } from "../../../src/store/sqlite/sqlite-store.ts";
import { PgDatabase } from "../../../src/store/postgres/pg-database.ts";
import { PgSecretRows } from "../../../src/store/postgres/pg-secret-rows.ts";
import { startPostgresCluster, type PostgresCluster } from "../../helpers/postgres-cluster.ts";

const CLI = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const VALUE = "postgres://shop:c0rrect-h0rse-battery@db.internal/shop";
const req = (owner: string, repo: string) => ({ owner, repo }) as BuildRequest;

let dataDir: string;
let cluster: PostgresCluster;
before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "ms-secrets-cli-"));
  cluster = await startPostgresCluster();
});
after(async () => {
  await cluster?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** The CLI as an operator runs it: a real process, the value on stdin, nothing else from this test's env. */
function cli(args: string[], stdin: string | Buffer, env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, "secrets", ...args], { env: { PATH: process.env.PATH ?? "", MICROSHIP_DATA_DIR: dataDir, ...env } });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.stdin.on("error", () => {}); // a refused oversize value closes stdin early
    child.stdin.end(stdin);
    child.on("error", fail);
    child.on("close", (code) => ok({ code: code ?? -1, out, err }));
  });
}

test("SQLite, beside a running server's open connection: set from stdin, the server's secretsFor sees it, list and delete; no value is ever printed", async () => {
  // What the server holds open: its store (WAL) and its secret rows.
  const server = new SqliteDatabase(join(dataDir, "microship.sqlite"));
  const store = new SqliteStore(server);
  try {
    const printed: string[] = [];
    const set = await cli(["set", "Octo-Org/shop", "DATABASE_URL"], `${VALUE}\n`);
    printed.push(set.out, set.err);
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /DATABASE_URL is set for Octo-Org\/shop/);
    const secrets = repoSecrets(loadEnv({ MICROSHIP_DATA_DIR: dataDir }), dataDir, new SqliteSecretRows(server));
    assert.deepEqual(await secrets.secretsFor(req("octo-org", "shop")), [{ id: "DATABASE_URL", value: VALUE }], "the trailing newline is dropped");
    assert.deepEqual(await secrets.secretsFor(req("octo-org", "other")), []);

    const list = await cli(["list", "octo-org/shop"], "");
    printed.push(list.out, list.err);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^DATABASE_URL\t\d{4}-\d\d-\d\dT[\d:.]+Z\tcli:/m);
    const del = await cli(["delete", "octo-org/shop", "DATABASE_URL"], "");
    printed.push(del.out, del.err);
    assert.equal(del.code, 0, del.err);
    assert.deepEqual(await secrets.secretsFor(req("octo-org", "shop")), []);
    assert.ok(!printed.join("\n").includes("c0rrect-h0rse"), "the value was printed");
    await store.close();
  } finally {
    server.close();
  }
});

test("refused: a bad name, GITHUB_, an empty or oversize value, a bad repo, a value in argv; each says why and exits 2", async () => {
  const cases: [string[], string | Buffer, RegExp][] = [
    [["set", "o/r", "lower_case"], "x\n", /A-Z, 0-9 and '_'/],
    [["set", "o/r", "GITHUB_TOKEN"], "x\n", /GITHUB_/],
    [["set", "o/r", "EMPTY"], "\n", /can't be empty/],
    [["set", "o/r", "BIG"], Buffer.alloc(1024 * 1024, "a"), /at most 48 KiB/],
    [["set", "not-a-repo", "NAME"], "x\n", /usage:/],
    [["set", "o/r", "NAME", VALUE], "", /usage:/],
    [["list"], "", /usage:/],
  ];
  for (const [args, stdin, why] of cases) {
    const r = await cli(args, stdin);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, why, args.join(" "));
    assert.ok(!`${r.out}${r.err}`.includes(VALUE));
  }
  const list = await cli(["list", "o/r"], "");
  assert.match(list.out, /o\/r has no secrets/);
});

test("Postgres: the CLI sets through DATABASE_URL with the replicas' shared key; without MICROSHIP_SECRETS_KEY it refuses with exit 2", async () => {
  const url = await cluster.database();
  const key = randomBytes(32).toString("base64");
  const pgEnv = { DATABASE_URL: url, MICROSHIP_REGISTRY: "registry.test" };
  const refused = await cli(["set", "octo-org/shop", "API_KEY"], "k-123456\n", pgEnv);
  assert.equal(refused.code, 2, refused.err);
  assert.match(refused.err, /MICROSHIP_SECRETS_KEY/);
  const set = await cli(["set", "octo-org/shop", "API_KEY"], "k-123456\n", { ...pgEnv, MICROSHIP_SECRETS_KEY: key });
  assert.equal(set.code, 0, set.err);
  const db = new PgDatabase(url);
  try {
    const replica = repoSecrets(loadEnv({ ...pgEnv, MICROSHIP_SECRETS_KEY: key }), dataDir, new PgSecretRows(db));
    assert.deepEqual(await replica.secretsFor(req("octo-org", "shop")), [{ id: "API_KEY", value: "k-123456" }]);
  } finally {
    await db.close();
  }
});
