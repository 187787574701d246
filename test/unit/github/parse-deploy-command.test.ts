import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDeployCommand } from "../../../src/github/parse-deploy-command.ts";
import { parseRebuildCommand } from "../../../src/github/parse-rebuild-command.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";

test("/deploy and /rollback, with their one optional word, as a line of their own", () => {
  assert.deepEqual(parseDeployCommand("/deploy"), { kind: "deploy", sha: null });
  assert.deepEqual(parseDeployCommand(`Looks good.\r\n/deploy ${SHA.slice(0, 7)}\r\n`), { kind: "deploy", sha: SHA.slice(0, 7) });
  assert.deepEqual(parseDeployCommand(`/deploy\t${SHA.toUpperCase()}`), { kind: "deploy", sha: SHA });
  assert.deepEqual(parseDeployCommand("  /rollback"), { kind: "rollback", environment: null });
  assert.deepEqual(parseDeployCommand("/rollback production"), { kind: "rollback", environment: "production" });
  assert.deepEqual(parseDeployCommand("/rollback staging-2  "), { kind: "rollback", environment: "staging-2" });
});

test("words the commands do not take get the usage, not a guess", () => {
  for (const body of ["/deploy now", "/deploy 0123", `/deploy ${SHA}0`, `/deploy ${SHA} ${SHA}`, "/deploy --force"]) {
    const c = parseDeployCommand(body);
    assert.equal(c?.kind, "invalid", body);
    assert.match(c?.kind === "invalid" ? c.usage : "", /`\/deploy <sha>`/);
  }
  for (const body of ["/rollback Production", "/rollback production now", "/rollback preview/pr-1", "/rollback -x", `/rollback ${"a".repeat(31)}`, "/rollback ＰＲＯＤ", "/rollback prod\u200b"]) {
    assert.equal(parseDeployCommand(body)?.kind, "invalid", JSON.stringify(body));
  }
});

test("not a command: code, quotes, comments, other words, other commands, and bodies longer than GitHub allows", () => {
  const notCommands = [
    "```\n/deploy\n```", "~~~\n/rollback production\n~~~", "    /deploy", "> /rollback", "<!--\n/deploy\n-->", "/deploy\n---",
    "/deployment", "/rollbacks", "please /deploy", "`/deploy`", "／deploy", "/DEPLOY", "/rebuild", `/deploy\n${"x".repeat(65_536)}`,
  ];
  for (const body of notCommands) assert.equal(parseDeployCommand(body), null, JSON.stringify(body.slice(0, 40)));
  // And /rebuild does not answer to them.
  assert.equal(parseRebuildCommand("/deploy"), null);
  assert.equal(parseRebuildCommand("/rollback"), null);
});

test("hostile bodies: many lines, one huge line, unicode everywhere, all bounded", () => {
  const manyLines = `${"ünïcødé 🚀 text\n".repeat(4000)}/rollback production`;
  assert.ok(manyLines.length < 65_536);
  assert.deepEqual(parseDeployCommand(manyLines), { kind: "rollback", environment: "production" });
  const hugeLine = `/deploy ${"a".repeat(65_000)}`;
  assert.equal(parseDeployCommand(hugeLine)?.kind, "invalid");
  const manyWords = `/rollback ${"x ".repeat(32_000)}`;
  assert.equal(parseDeployCommand(manyWords)?.kind, "invalid");
  // 8,001 fences leave the last one open, so /deploy is code; 8,000 close, so it is a command.
  assert.equal(parseDeployCommand(`${"```\n".repeat(8_001)}/deploy`), null);
  assert.deepEqual(parseDeployCommand(`${"```\n".repeat(8_000)}/deploy`), { kind: "deploy", sha: null });
  assert.equal(parseDeployCommand(`${"> quote\n".repeat(7_000)}/deploy`), null, "a lazy continuation of a long quote");
  assert.equal(parseDeployCommand("\u0000/deploy"), null);
  assert.equal(parseDeployCommand(`/deploy ${"é".repeat(7)}`)?.kind, "invalid");
});
