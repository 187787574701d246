import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { SecretBox } from "../../../src/core/secrets/secret-box.ts";
import { checkSecretName, checkSecretValue, parseRepoKey, secretNameProblem, SecretRuleError } from "../../../src/core/secrets/secret-rules.ts";
import { EnvError, loadEnv } from "../../../src/config/env.ts";

const VALUE = "postgres://app:hunter2-very-secret@db/app";
/** GitHub's repository ids: the shop and another repository. */
const SHOP = 186853002;
const OTHER = 186853003;

test("a sealed secret opens with its key, repository id and name, and its bytes hold no plaintext; each seal takes a fresh IV", () => {
  const box = new SecretBox(randomBytes(32));
  const a = box.seal(SHOP, "DATABASE_URL", VALUE), b = box.seal(SHOP, "DATABASE_URL", VALUE);
  assert.equal(box.open(SHOP, "DATABASE_URL", a), VALUE);
  assert.equal(a.iv.length, 12);
  assert.notDeepEqual(a.iv, b.iv);
  assert.notDeepEqual(a.sealed, b.sealed);
  assert.ok(!a.sealed.includes(Buffer.from("hunter2")));
});

test("another key: a clear error naming MICROSHIP_SECRETS_KEY, not a crypto library's", () => {
  const sealed = new SecretBox(randomBytes(32)).seal(SHOP, "TOKEN", VALUE);
  assert.throws(() => new SecretBox(randomBytes(32)).open(SHOP, "TOKEN", sealed), (err: Error) => {
    assert.match(err.message, /MICROSHIP_SECRETS_KEY/);
    assert.match(err.message, /another key/);
    assert.ok(!err.message.includes(VALUE));
    return true;
  });
  // A row that lies about its key id still meets the tag: the key id only names the problem.
  const other = new SecretBox(randomBytes(32));
  assert.throws(() => other.open(SHOP, "TOKEN", { ...sealed, keyId: other.keyId }), /does not decrypt/);
});

test("a tampered ciphertext, tag or IV fails to open", () => {
  const box = new SecretBox(randomBytes(32));
  const s = box.seal(SHOP, "TOKEN", VALUE);
  for (const at of [0, s.sealed.length - 1]) {
    const sealed = Buffer.from(s.sealed);
    sealed[at]! ^= 1;
    assert.throws(() => box.open(SHOP, "TOKEN", { ...s, sealed }), /does not decrypt/);
  }
  const iv = Buffer.from(s.iv);
  iv[0]! ^= 1;
  assert.throws(() => box.open(SHOP, "TOKEN", { ...s, iv }), /does not decrypt/);
  assert.throws(() => box.open(SHOP, "TOKEN", { ...s, sealed: s.sealed.subarray(0, 8) }), /does not decrypt/);
});

test("the attack: a ciphertext moved to another repository id or another name fails (id and name are the AAD)", () => {
  const box = new SecretBox(randomBytes(32));
  const s = box.seal(SHOP, "DATABASE_URL", VALUE);
  assert.throws(() => box.open(OTHER, "DATABASE_URL", s), /does not decrypt/);
  assert.throws(() => box.open(SHOP, "OTHER", s), /does not decrypt/);
  // The name people read is not authenticated (a renamed repository keeps its secrets); errors show it.
  assert.equal(box.open(SHOP, "DATABASE_URL", s, "octo-org/renamed"), VALUE);
  assert.throws(() => box.open(OTHER, "DATABASE_URL", s, "mallory/app"), /DATABASE_URL of mallory\/app does not decrypt/);
  // No two (id, name) pairs share their AAD bytes: the id is 8 fixed bytes, the name length-prefixed.
  const t = box.seal(1, "C", VALUE);
  assert.throws(() => box.open(256, "C", t), /does not decrypt/);
  assert.throws(() => box.open(1, "C\0", t), /does not decrypt/);
  // An id that is no GitHub id is refused, never sealed under.
  for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53]) assert.throws(() => box.seal(bad, "C", VALUE), /not a GitHub repository id/);
});

test("names: GitHub's rule for Actions secrets, checked in one pass", () => {
  for (const ok of ["DATABASE_URL", "_X", "A1", "X".repeat(100)]) assert.equal(secretNameProblem(ok), null, ok);
  for (const [bad, why] of [["", /empty/], ["1A", /digit/], ["lower", /A-Z/], ["A-B", /A-Z/], ["A B", /A-Z/], ["X".repeat(101), /100/], ["GITHUB_TOKEN", /GITHUB_/], ["É", /A-Z/]] as const) {
    assert.match(secretNameProblem(bad) ?? "", why, bad);
  }
  assert.throws(() => checkSecretName("bad name"), SecretRuleError);
  // A million characters cost one bounded look, not a regex's backtracking.
  assert.match(secretNameProblem("A".repeat(1_000_000)) ?? "", /100/);
});

test("values: non-empty, at most 48 KiB of UTF-8", () => {
  checkSecretValue("x".repeat(48 * 1024));
  assert.throws(() => checkSecretValue(""), /empty/);
  assert.throws(() => checkSecretValue("x".repeat(48 * 1024 + 1)), /48 KiB/);
  assert.throws(() => checkSecretValue("é".repeat(24 * 1024 + 1)), /48 KiB/);
});

test("owner/repo as typed: one slash, GitHub's characters, bounded", () => {
  assert.deepEqual(parseRepoKey("Octo-Org/shop.js"), { owner: "Octo-Org", repo: "shop.js" });
  for (const bad of ["shop", "/shop", "a/", "a/b/c", "a b/c", "a/$(x)", `${"a".repeat(200)}/b`]) assert.equal(parseRepoKey(bad), null, bad);
});

test("MICROSHIP_SECRETS_KEY: the base64 of 32 bytes, else a clear refusal", () => {
  const key = randomBytes(32).toString("base64");
  assert.equal(loadEnv({ MICROSHIP_SECRETS_KEY: key }).MICROSHIP_SECRETS_KEY, key);
  for (const bad of ["short", randomBytes(31).toString("base64"), randomBytes(33).toString("base64"), `${key.slice(0, 43)}!`, randomBytes(32).toString("hex")]) {
    assert.throws(() => loadEnv({ MICROSHIP_SECRETS_KEY: bad }), (err: EnvError) => /MICROSHIP_SECRETS_KEY: expected the base64 of 32 random bytes/.test(err.message), bad);
  }
});
