/**
 * The secret store's contract: the cases SQLite and Postgres both pass, through RepoSecrets
 * (core/secrets/secret-store.ts) over each backend's SecretRows. `open` gives an empty database;
 * `retarget` changes one sealed row's repository id with the database's own SQL, as someone who
 * can write the table (but not read the key) would; `lastSeen` is the `owner/repo` column of an
 * id's rows; `rawBytes` is every byte the database holds for the table (or the whole file), to
 * look for a plaintext in.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { SecretBox } from "../../src/core/secrets/secret-box.ts";
import { RepoSecrets, type SecretRepo, type SecretRows } from "../../src/core/secrets/secret-store.ts";
import type { BuildRequest } from "../../src/core/types.ts";

export interface SecretBackend {
  rows: SecretRows;
  /** A second connection's rows, as the CLI beside the server has. */
  other(): Promise<SecretRows>;
  retarget(fromId: number, toId: number, name: string): Promise<void>;
  lastSeen(id: number): Promise<string[]>;
  rawBytes(): Promise<Buffer>;
  close(): Promise<void>;
}

/** A build request of repository `id`, named as its webhook named it. */
const req = (id: number | null | undefined, owner: string, repo: string) => ({ repositoryId: id, owner, repo }) as BuildRequest;
const SHOP: SecretRepo = { id: 186853002, owner: "octo-org", repo: "shop" };
const R: SecretRepo = { id: 7, owner: "o", repo: "r" };
const VALUE = "s3cr3t-plaintext-value-0123456789";

export function runSecretStoreContract(name: string, open: () => Promise<SecretBackend>): void {
  const withStore = (fn: (s: RepoSecrets, b: SecretBackend, key: Buffer) => Promise<void>) => async () => {
    const b = await open();
    const key = randomBytes(32);
    try {
      await fn(new RepoSecrets(b.rows, new SecretBox(key)), b, key);
    } finally {
      await b.close();
    }
  };

  describe(`secret store contract: ${name}`, () => {
    test("set, list (names, dates, who; never values), overwrite, delete; a repo's builds get its secrets", withStore(async (s) => {
      await s.set(SHOP, "DATABASE_URL", VALUE, "operator");
      await s.set(SHOP, "API_KEY", "first", "cli");
      await s.set(SHOP, "API_KEY", "second", "alice");
      const list = await s.list(SHOP);
      assert.deepEqual(list.map((e) => [e.name, e.updatedBy]), [["API_KEY", "alice"], ["DATABASE_URL", "operator"]]);
      assert.ok(list.every((e) => e.updatedAt instanceof Date && Math.abs(e.updatedAt.getTime() - Date.now()) < 60_000));
      assert.ok(!JSON.stringify(list).includes(VALUE) && !JSON.stringify(list).includes("second"));
      assert.deepEqual(await s.secretsFor(req(SHOP.id, "octo-org", "shop")), [{ id: "API_KEY", value: "second" }, { id: "DATABASE_URL", value: VALUE }]);
      assert.equal(await s.delete(SHOP, "API_KEY"), true);
      assert.equal(await s.delete(SHOP, "API_KEY"), false);
      assert.deepEqual((await s.secretsFor(req(SHOP.id, "octo-org", "shop"))).map((x) => x.id), ["DATABASE_URL"]);
    }));

    test("scoped to one repository id: a rename keeps them, a new repository under the old name gets none, a request without an id gets none", withStore(async (s, b) => {
      await s.set({ id: SHOP.id, owner: "Octo-Org", repo: "Shop" }, "TOKEN", VALUE, "op");
      assert.deepEqual(await s.secretsFor(req(SHOP.id, "octo-org", "shop")), [{ id: "TOKEN", value: VALUE }]);
      // (a) The repository renamed (or transferred): same id, another name. Its builds still get them.
      assert.deepEqual(await s.secretsFor(req(SHOP.id, "octo-org", "shop2")), [{ id: "TOKEN", value: VALUE }]);
      assert.deepEqual(await s.secretsFor(req(SHOP.id, "new-owner", "shop")), [{ id: "TOKEN", value: VALUE }]);
      // (b) The attack: whoever creates a repository under the freed name gets a new id, and nothing.
      assert.deepEqual(await s.secretsFor(req(SHOP.id + 1, "octo-org", "shop")), []);
      assert.deepEqual(await s.list({ ...SHOP, id: SHOP.id + 1 }), []);
      assert.equal(await s.delete({ ...SHOP, id: SHOP.id + 1 }, "TOKEN"), false);
      // A request stored before ids were recorded gets none, whatever its name.
      assert.deepEqual(await s.secretsFor(req(null, "octo-org", "shop")), []);
      assert.deepEqual(await s.secretsFor(req(undefined, "octo-org", "shop")), []);
      assert.deepEqual((await s.list(SHOP)).map((e) => e.name), ["TOKEN"]);
      // The name kept beside the id is the last one seen, for people: setting under the new name moves every row's.
      assert.deepEqual(await b.lastSeen(SHOP.id), ["octo-org/shop"]);
      await s.set({ id: SHOP.id, owner: "octo-org", repo: "shop2" }, "OTHER", "v", "op");
      assert.deepEqual(await b.lastSeen(SHOP.id), ["octo-org/shop2", "octo-org/shop2"]);
      await assert.rejects(s.set({ ...SHOP, id: 0 }, "TOKEN", VALUE, "op"), /not a GitHub repository id/);
    }));

    test("bad names, empty and oversize values are refused and nothing is written", withStore(async (s) => {
      for (const [n, v] of [["lower", "x"], ["GITHUB_TOKEN", "x"], ["OK", ""], ["OK", "x".repeat(48 * 1024 + 1)]]) {
        await assert.rejects(s.set(R, n!, v!, "op"), (e: Error) => e.name === "SecretRuleError");
      }
      assert.deepEqual(await s.list(R), []);
    }));

    test("at most 100 secrets a repo, held across two connections; replacing one at the limit still works", withStore(async (s, b, key) => {
      const other = new RepoSecrets(await b.other(), new SecretBox(key));
      await Promise.all(Array.from({ length: 110 }, (_, i) => (i % 2 ? s : other).set(R, `S${i}`, `v${i}`, "op").catch((e: Error) => e)));
      assert.equal((await s.list(R)).length, 100);
      await assert.rejects(s.set(R, "ONE_MORE", "x", "op"), /100 secrets/);
      const kept = (await s.list(R))[0]!.name;
      await s.set(R, kept, "replaced", "op");
      await s.set({ ...R, id: 8, repo: "r2" }, "ELSEWHERE", "x", "op");
    }));

    test("the attack: a row whose repository id is changed in the database does not decrypt there", withStore(async (s, b) => {
      await s.set(SHOP, "DATABASE_URL", VALUE, "op");
      const mallory = { id: 99, owner: "mallory", repo: "app" };
      await b.retarget(SHOP.id, mallory.id, "DATABASE_URL");
      assert.deepEqual((await s.list(mallory)).map((e) => e.name), ["DATABASE_URL"], "the row is there");
      await assert.rejects(s.secretsFor(req(mallory.id, "mallory", "app")), (e: Error) => /DATABASE_URL of mallory\/app does not decrypt/.test(e.message) && !e.message.includes(VALUE));
    }));

    test("another key: reading fails naming MICROSHIP_SECRETS_KEY; without a key nothing is set and a repo with secrets says why", withStore(async (s, b) => {
      await s.set(R, "TOKEN", VALUE, "op");
      await assert.rejects(new RepoSecrets(b.rows, new SecretBox(randomBytes(32))).secretsFor(req(R.id, "o", "r")), /MICROSHIP_SECRETS_KEY/);
      const keyless = new RepoSecrets(b.rows, null, "no MICROSHIP_SECRETS_KEY here");
      await assert.rejects(keyless.set(R, "OTHER", "x", "op"), /no MICROSHIP_SECRETS_KEY here/);
      await assert.rejects(keyless.secretsFor(req(R.id, "o", "r")), /can't be read: no MICROSHIP_SECRETS_KEY here/);
      assert.deepEqual(await keyless.secretsFor(req(R.id + 1, "o", "nothing-set")), []);
    }));

    test("the database never holds the plaintext", withStore(async (s, b) => {
      await s.set(R, "TOKEN", VALUE, "op");
      const raw = await b.rawBytes();
      assert.ok(raw.length > 0);
      assert.ok(raw.includes(Buffer.from("TOKEN")), "the bytes looked at hold the row");
      assert.ok(!raw.includes(Buffer.from(VALUE)) && !raw.includes(Buffer.from(VALUE, "utf16le")));
    }));
  });
}
