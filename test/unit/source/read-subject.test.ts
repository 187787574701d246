import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSubject } from "../../../src/source/read-subject.ts";
import { commitSubject, SUBJECT_CHARS } from "../../../src/core/commit-subject.ts";

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir(), LANG: "C.UTF-8", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };

async function commitWith(message: string): Promise<{ dir: string; sha: string }> {
  const dir = await mkdtemp(join(tmpdir(), "ms-subject-"));
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: dir, env, encoding: "utf8" }).trim();
  git("init", "-q");
  await writeFile(join(dir, "message"), message);
  git("commit", "-q", "--allow-empty", "--cleanup=verbatim", "-F", "message");
  return { dir, sha: git("rev-parse", "HEAD") };
}

test("a hostile commit message: 8 MiB on one line is read only to the cap, then cleaned and cut for the list", async () => {
  const { dir, sha } = await commitWith(`\u001b]0;title\u0007\u001b[31m<b>x</b>${"é".repeat(4 * 1024 * 1024)}`);
  try {
    const raw = await readSubject(dir, sha, env, AbortSignal.timeout(20_000));
    assert.ok(raw !== null && Buffer.byteLength(raw) <= 4096, "no more than the cap is read");
    const shown = commitSubject(raw)!;
    assert.equal(shown.length, SUBJECT_CHARS);
    assert.ok(shown.startsWith("<b>x</b>éé"), "escapes gone, markup kept as text (the views escape it)");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the first line only, and nothing for a sha git doesn't have", async () => {
  const { dir, sha } = await commitWith("Fix the cart\r\n\r\nA body that stays on GitHub.\n");
  try {
    assert.equal(commitSubject(await readSubject(dir, sha, env, AbortSignal.timeout(10_000))), "Fix the cart");
    assert.equal(await readSubject(dir, "f".repeat(40), env, AbortSignal.timeout(10_000)), null);
    assert.equal(commitSubject("\u0000\u001b[0m \t\n"), null, "nothing left: no message");
    assert.equal(commitSubject(`${"a".repeat(SUBJECT_CHARS - 1)}🚀`)!.length, SUBJECT_CHARS - 1, "never half a surrogate pair");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
