/**
 * The secret store's contract: the cases SQLite and Postgres both pass, through RepoSecrets
 * (core/secrets/secret-store.ts) over each backend's SecretRows. `open` gives an empty database;
 * `moveRow` copies one sealed row to another repository's key with the database's own SQL, as
 * someone who can write the table (but not read the key) would; `rawBytes` is every byte the
 * database holds for the table (or the whole file), to look for a plaintext in.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { SecretBox } from "../../src/core/secrets/secret-box.ts";
import { RepoSecrets, type SecretRows } from "../../src/core/secrets/secret-store.ts";
import type { BuildRequest } from "../../src/core/types.ts";

export interface SecretBackend {
  rows: SecretRows;
  /** A second connection's rows, as the CLI beside the server has. */
  other(): Promise<SecretRows>;
  moveRow(fromRepo: string, toRepo: string, name: string): Promise<void>;
  rawBytes(): Promise<Buffer>;
  close(): Promise<void>;
}

const req = (owner: string, repo: string) => ({ owner, repo }) as BuildRequest;
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
      await s.set("octo-org", "shop", "DATABASE_URL", VALUE, "operator");
      await s.set("octo-org", "shop", "API_KEY", "first", "cli");
      await s.set("octo-org", "shop", "API_KEY", "second", "alice");
      const list = await s.list("octo-org", "shop");
      assert.deepEqual(list.map((e) => [e.name, e.updatedBy]), [["API_KEY", "alice"], ["DATABASE_URL", "operator"]]);
      assert.ok(list.every((e) => e.updatedAt instanceof Date && Math.abs(e.updatedAt.getTime() - Date.now()) < 60_000));
      assert.ok(!JSON.stringify(list).includes(VALUE) && !JSON.stringify(list).includes("second"));
      assert.deepEqual(await s.secretsFor(req("octo-org", "shop")), [{ id: "API_KEY", value: "second" }, { id: "DATABASE_URL", value: VALUE }]);
      assert.equal(await s.delete("octo-org", "shop", "API_KEY"), true);
      assert.equal(await s.delete("octo-org", "shop", "API_KEY"), false);
      assert.deepEqual((await s.secretsFor(req("octo-org", "shop"))).map((x) => x.id), ["DATABASE_URL"]);
    }));

    test("scoped to one repository; owner/repo case folded as GitHub's names are", withStore(async (s) => {
      await s.set("Octo-Org", "Shop", "TOKEN", VALUE, "op");
      assert.deepEqual(await s.secretsFor(req("octo-org", "shop")), [{ id: "TOKEN", value: VALUE }]);
      assert.deepEqual(await s.secretsFor(req("octo-org", "shop-2")), []);
      assert.deepEqual(await s.secretsFor(req("octo", "org-shop")), []);
      assert.deepEqual(await s.list("mallory", "shop"), []);
    }));

    test("bad names, empty and oversize values are refused and nothing is written", withStore(async (s) => {
      for (const [n, v] of [["lower", "x"], ["GITHUB_TOKEN", "x"], ["OK", ""], ["OK", "x".repeat(48 * 1024 + 1)]]) {
        await assert.rejects(s.set("o", "r", n!, v!, "op"), (e: Error) => e.name === "SecretRuleError");
      }
      assert.deepEqual(await s.list("o", "r"), []);
    }));

    test("at most 100 secrets a repo, held across two connections; replacing one at the limit still works", withStore(async (s, b, key) => {
      const other = new RepoSecrets(await b.other(), new SecretBox(key));
      await Promise.all(Array.from({ length: 110 }, (_, i) => (i % 2 ? s : other).set("o", "r", `S${i}`, `v${i}`, "op").catch((e: Error) => e)));
      assert.equal((await s.list("o", "r")).length, 100);
      await assert.rejects(s.set("o", "r", "ONE_MORE", "x", "op"), /100 secrets/);
      const kept = (await s.list("o", "r"))[0]!.name;
      await s.set("o", "r", kept, "replaced", "op");
      await s.set("o", "r2", "ELSEWHERE", "x", "op");
    }));

    test("the attack: a row copied into another repository's key does not decrypt there", withStore(async (s, b) => {
      await s.set("octo-org", "shop", "DATABASE_URL", VALUE, "op");
      await b.moveRow("octo-org/shop", "mallory/app", "DATABASE_URL");
      assert.deepEqual((await s.list("mallory", "app")).map((e) => e.name), ["DATABASE_URL"], "the copy is there");
      await assert.rejects(s.secretsFor(req("mallory", "app")), (e: Error) => /does not decrypt/.test(e.message) && !e.message.includes(VALUE));
    }));

    test("another key: reading fails naming MICROSHIP_SECRETS_KEY; without a key nothing is set and a repo with secrets says why", withStore(async (s, b) => {
      await s.set("o", "r", "TOKEN", VALUE, "op");
      await assert.rejects(new RepoSecrets(b.rows, new SecretBox(randomBytes(32))).secretsFor(req("o", "r")), /MICROSHIP_SECRETS_KEY/);
      const keyless = new RepoSecrets(b.rows, null, "no MICROSHIP_SECRETS_KEY here");
      await assert.rejects(keyless.set("o", "r", "OTHER", "x", "op"), /no MICROSHIP_SECRETS_KEY here/);
      await assert.rejects(keyless.secretsFor(req("o", "r")), /can't be read: no MICROSHIP_SECRETS_KEY here/);
      assert.deepEqual(await keyless.secretsFor(req("o", "nothing-set")), []);
    }));

    test("the database never holds the plaintext", withStore(async (s, b) => {
      await s.set("o", "r", "TOKEN", VALUE, "op");
      const raw = await b.rawBytes();
      assert.ok(raw.length > 0);
      assert.ok(raw.includes(Buffer.from("TOKEN")), "the bytes looked at hold the row");
      assert.ok(!raw.includes(Buffer.from(VALUE)) && !raw.includes(Buffer.from(VALUE, "utf16le")));
    }));
  });
}
