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
import { appCredentials } from "../../fakes/app-credentials.ts";
import { startGitHubFake, type GitHubFake } from "../../fakes/github/github-fake.ts";

const CLI = fileURLToPath(new URL("../../../src/cli/main.ts", import.meta.url));
const VALUE = "postgres://shop:c0rrect-h0rse-battery@db.internal/shop";
const req = (repositoryId: number, owner: string, repo: string) => ({ repositoryId, owner, repo }) as BuildRequest;
const creds = appCredentials();

let dataDir: string;
let cluster: PostgresCluster;
let fake: GitHubFake;
/** The app's credentials and the fake as its GitHub (Enterprise Server), as the operator's .env has them. */
let appEnv: Record<string, string>;
const idOf = (owner: string, repo: string) => fake.state.repo(owner, repo)!.id;
before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "ms-secrets-cli-"));
  cluster = await startPostgresCluster();
  fake = await startGitHubFake({ appId: creds.appId, publicKeyPem: creds.publicKeyPem });
  fake.createRepo({ owner: "Octo-Org", repo: "shop", installationId: 77 });
  fake.createRepo({ owner: "octo-org", repo: "ledger", installationId: 77 });
  appEnv = { APP_ID: String(creds.appId), PRIVATE_KEY: creds.privateKeyPem, GHE_HOST: fake.host, GHE_PROTOCOL: "http", WEBHOOK_SECRET: "cli-test-webhook-secret" };
});
after(async () => {
  await fake?.close();
  await cluster?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** The CLI as an operator runs it: a real process, the value on stdin, nothing else from this test's env. */
function cli(args: string[], stdin: string | Buffer, env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, "secrets", ...args], { env: { PATH: process.env.PATH ?? "", MICROSHIP_DATA_DIR: dataDir, ...appEnv, ...env } });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.stdin.on("error", () => {}); // a refused oversize value closes stdin early
    child.stdin.end(stdin);
    child.on("error", fail);
    child.on("close", (code) => ok({ code: code ?? -1, out, err }));
  });
}

test("SQLite, beside a running server's open connection: set from stdin, keyed by the id GitHub gives the app; the server's secretsFor sees it, list and delete; no value is ever printed", async () => {
  // What the server holds open: its store (WAL) and its secret rows.
  const server = new SqliteDatabase(join(dataDir, "microship.sqlite"));
  const store = new SqliteStore(server);
  try {
    const printed: string[] = [];
    const set = await cli(["set", "Octo-Org/shop", "DATABASE_URL"], `${VALUE}\n`);
    printed.push(set.out, set.err);
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, new RegExp(`DATABASE_URL is set for Octo-Org/shop \\(repository id ${idOf("octo-org", "shop")}\\)`));
    const secrets = repoSecrets(loadEnv({ MICROSHIP_DATA_DIR: dataDir }), dataDir, new SqliteSecretRows(server));
    assert.deepEqual(await secrets.secretsFor(req(idOf("octo-org", "shop"), "octo-org", "shop")), [{ id: "DATABASE_URL", value: VALUE }], "the trailing newline is dropped");
    assert.deepEqual(await secrets.secretsFor(req(idOf("octo-org", "ledger"), "octo-org", "ledger")), []);
    // The least the lookup needs: the app's JWT finds the installation, a token for this one repository reads its metadata.
    const asked = fake.calls.filter((c) => c.operationId !== "git").map((c) => `${c.auth} ${c.operationId} ${c.status}`);
    assert.deepEqual(asked, ["app apps/get-repo-installation 200", "app apps/create-installation-access-token 201", "installation repos/get 200"]);
    assert.deepEqual(fake.calls[1]!.body, { repositories: ["shop"], permissions: { metadata: "read" } });

    const list = await cli(["list", "octo-org/shop"], "");
    printed.push(list.out, list.err);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^DATABASE_URL\t\d{4}-\d\d-\d\dT[\d:.]+Z\tcli:/m);
    const del = await cli(["delete", "octo-org/shop", "DATABASE_URL"], "");
    printed.push(del.out, del.err);
    assert.equal(del.code, 0, del.err);
    assert.deepEqual(await secrets.secretsFor(req(idOf("octo-org", "shop"), "octo-org", "shop")), []);
    assert.ok(!printed.join("\n").includes("c0rrect-h0rse"), "the value was printed");
    assert.ok(!printed.join("\n").includes("PRIVATE KEY") && !printed.join("\n").includes("ghs_"), "a credential was printed");
    await store.close();
  } finally {
    server.close();
  }
});

test("the attack: the repository is renamed and a new one takes its name; the new one's list is empty and its builds get nothing, the renamed one keeps its secrets", async () => {
  fake.createRepo({ owner: "octo-org", repo: "app", installationId: 77 });
  const set = await cli(["set", "octo-org/app", "API_KEY"], "k-renamed-1\n");
  assert.equal(set.code, 0, set.err);
  const first = idOf("octo-org", "app");
  fake.renameRepo("octo-org", "app", "app-old");
  fake.createRepo({ owner: "octo-org", repo: "app", installationId: 77 });
  assert.notEqual(idOf("octo-org", "app"), first);
  const taken = await cli(["list", "octo-org/app"], "");
  assert.equal(taken.code, 0, taken.err);
  assert.match(taken.out, /octo-org\/app \(repository id \d+\) has no secrets/);
  const kept = await cli(["list", "octo-org/app-old"], "");
  assert.match(kept.out, /^API_KEY\t/m);
  const db = new SqliteDatabase(join(dataDir, "microship.sqlite"));
  try {
    const secrets = repoSecrets(loadEnv({ MICROSHIP_DATA_DIR: dataDir }), dataDir, new SqliteSecretRows(db));
    assert.deepEqual(await secrets.secretsFor(req(idOf("octo-org", "app"), "octo-org", "app")), []);
    assert.deepEqual(await secrets.secretsFor(req(first, "octo-org", "app-old")), [{ id: "API_KEY", value: "k-renamed-1" }]);
  } finally {
    db.close();
  }
});

test("refused: a bad name, GITHUB_, an empty or oversize value, a bad repo, a value in argv, a repository the app isn't installed on, no app credentials; each says why and exits 2", async () => {
  const cases: [string[], string | Buffer, RegExp, Record<string, string>?][] = [
    [["set", "o/r", "lower_case"], "x\n", /A-Z, 0-9 and '_'/],
    [["set", "o/r", "GITHUB_TOKEN"], "x\n", /GITHUB_/],
    [["set", "o/r", "EMPTY"], "\n", /can't be empty/],
    [["set", "o/r", "BIG"], Buffer.alloc(1024 * 1024, "a"), /at most 48 KiB/],
    [["set", "not-a-repo", "NAME"], "x\n", /usage:/],
    [["set", "o/r", "NAME", VALUE], "", /usage:/],
    [["list"], "", /usage:/],
    [["set", "mallory/elsewhere", "NAME"], "x\n", /the app is not installed on mallory\/elsewhere/],
    [["list", "o/r"], "", /the app is not installed on o\/r/],
    [["list", "octo-org/shop"], "", /set APP_ID and PRIVATE_KEY \(or PRIVATE_KEY_PATH\)/, { APP_ID: "" }],
  ];
  for (const [args, stdin, why, env] of cases) {
    const r = await cli(args, stdin, env);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, why, args.join(" "));
    assert.ok(!`${r.out}${r.err}`.includes(VALUE));
  }
});

test("GitHub refusing the app (a private key that isn't the app's) is exit 1 with one line, no key and no stack printed, nothing written", async () => {
  const stranger = appCredentials(creds.appId);
  const r = await cli(["set", "octo-org/ledger", "TOKEN"], "v\n", { PRIVATE_KEY: stranger.privateKeyPem });
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /^could not ask GitHub which repository this is \(HTTP 401\)/);
  assert.ok(!r.err.includes("    at ") && !r.err.includes("PRIVATE KEY"), r.err);
  assert.match((await cli(["list", "octo-org/ledger"], "")).out, /has no secrets/);
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
    assert.deepEqual(await replica.secretsFor(req(idOf("octo-org", "shop"), "octo-org", "shop")), [{ id: "API_KEY", value: "k-123456" }]);
    assert.deepEqual(await replica.secretsFor(req(idOf("octo-org", "ledger"), "octo-org", "shop")), [], "another id under the same name");
  } finally {
    await db.close();
  }
});
