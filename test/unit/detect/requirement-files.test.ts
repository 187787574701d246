import { test } from "node:test";
import assert from "node:assert/strict";
import { requirementFiles, MAX_REQUIREMENT_DEPTH, MAX_REQUIREMENT_FILES } from "../../../src/detect/providers/python/requirement-files.ts";
import { pythonDependencies } from "../../../src/detect/providers/python/python-deps.ts";
import { isMicroshipError } from "../../../src/core/errors.ts";
import { repoWith } from "../../helpers/detect-context.ts";

const paths = (files: { path: string; constraints: boolean }[]) => files.map((f) => `${f.constraints ? "c" : "r"}:${f.path}`);

async function userErrorOf(p: Promise<unknown>): Promise<{ message: string; location?: { file?: string; line?: number } }> {
  const err = await p.then(() => null, (e: unknown) => e);
  assert.ok(isMicroshipError(err) && err.kind === "user", `expected a user error, got ${String(err)}`);
  return err;
}

test("every spelling of -r and -c is followed, from the directory of the file that names it, each file once", async () => {
  const { ctx, cleanup } = repoWith({
    "requirements.txt": "-r requirements/prod.txt\n--requirement=requirements/extra.txt\n",
    "requirements/prod.txt": "-rbase.txt\n--constraint ../constraints.txt\ngunicorn\n",
    "requirements/extra.txt": "--requirement base.txt\n-c../constraints.txt\n-r prod.txt\n",
    "requirements/base.txt": "flask\n",
    "constraints.txt": "werkzeug<4\n",
  });
  try {
    assert.deepEqual(paths(await requirementFiles(ctx, true)), ["r:requirements.txt", "r:requirements/prod.txt", "r:requirements/extra.txt", "r:requirements/base.txt", "c:constraints.txt"]);
    // Names come from every requirements file, never from a constraints file.
    const deps = await pythonDependencies(ctx);
    assert.ok(deps.has("flask") && deps.has("gunicorn"));
    assert.ok(!deps.has("werkzeug"));
  } finally {
    cleanup();
  }
});

test("comments are not options: a # at the start or after a space ends the line, as pip reads it", async () => {
  const { ctx, cleanup } = repoWith({ "requirements.txt": "# -r missing-a.txt\nflask  # -r missing-b.txt\nsome-pkg#-r-not-a-comment\n" });
  try {
    assert.deepEqual(paths(await requirementFiles(ctx, true)), ["r:requirements.txt"]);
  } finally {
    cleanup();
  }
});

test("a cycle of -r files ends: each file is read once", async () => {
  const { ctx, cleanup } = repoWith({ "requirements.txt": "-r a.txt\n", "a.txt": "-r b.txt\n", "b.txt": "-r a.txt\n-r requirements.txt\n" });
  try {
    assert.deepEqual(paths(await requirementFiles(ctx, true)), ["r:requirements.txt", "r:a.txt", "r:b.txt"]);
  } finally {
    cleanup();
  }
});

test(`a chain deeper than ${MAX_REQUIREMENT_DEPTH} files is a user error; read leniently, it stops at the bound`, async () => {
  const files: Record<string, string> = { "requirements.txt": "-r r1.txt\n" };
  for (let i = 1; i <= MAX_REQUIREMENT_DEPTH + 5; i++) files[`r${i}.txt`] = `-r r${i + 1}.txt\n`;
  const { ctx, cleanup } = repoWith(files);
  try {
    const err = await userErrorOf(requirementFiles(ctx, true));
    assert.match(err.message, new RegExp(`nested deeper than ${MAX_REQUIREMENT_DEPTH} files`));
    assert.equal((await requirementFiles(ctx, false)).length, MAX_REQUIREMENT_DEPTH + 1);
  } finally {
    cleanup();
  }
});

test(`more than ${MAX_REQUIREMENT_FILES} files is a user error; read leniently, no more than that are read`, async () => {
  const files: Record<string, string> = { "requirements.txt": "" };
  for (let i = 0; i < MAX_REQUIREMENT_FILES * 3; i++) {
    files["requirements.txt"] += `-r r${i}.txt\n`;
    files[`r${i}.txt`] = "flask\n";
  }
  const { ctx, cleanup } = repoWith(files);
  try {
    assert.match((await userErrorOf(requirementFiles(ctx, true))).message, new RegExp(`over ${MAX_REQUIREMENT_FILES}`));
    assert.equal((await requirementFiles(ctx, false)).length, MAX_REQUIREMENT_FILES);
  } finally {
    cleanup();
  }
});

test("a reference that leaves the app, is absolute, or has characters a COPY line would expand is refused with its line", async () => {
  const cases: [string, RegExp][] = [
    ["../outside.txt", /outside the app's directory/],
    ["a/../../outside.txt", /outside the app's directory/],
    ["/etc/passwd", /is absolute/],
    ["$HOME/reqs.txt", /can't copy into the build safely/],
    ["https://example.com/reqs.txt", /can't copy into the build safely/],
    ["reqs*.txt", /can't copy into the build safely/],
  ];
  for (const [ref, why] of cases) {
    const { ctx, cleanup } = repoWith({ "requirements.txt": `flask\n-r ${ref}\n` });
    try {
      const err = await userErrorOf(requirementFiles(ctx, true));
      assert.match(err.message, why, ref);
      assert.deepEqual(err.location, { file: "requirements.txt", line: 2 });
      // Lenient reading (the dependency names) skips it.
      assert.deepEqual(paths(await requirementFiles(ctx, false)), ["r:requirements.txt"]);
    } finally {
      cleanup();
    }
  }
});

test("a missing file is a user error naming the line that names it", async () => {
  const { ctx, cleanup } = repoWith({ "requirements.txt": "-r requirements/prod.txt\n", "requirements/prod.txt": "\n-r base.txt\n" });
  try {
    const err = await userErrorOf(requirementFiles(ctx, true));
    assert.match(err.message, /^requirements\/prod\.txt line 2 names `requirements\/base\.txt` with -r, which does not exist/);
    assert.deepEqual(err.location, { file: "requirements/prod.txt", line: 2 });
  } finally {
    cleanup();
  }
});

test("a referenced file that is a symlink out of the repository is refused, and its text never shows", async () => {
  const { ctx, cleanup } = repoWith({ "requirements.txt": "-r base.txt\n" }, { symlinks: { "base.txt": "../outside/secret.txt" }, outside: { "secret.txt": "top-secret-host-value\n" } });
  try {
    const err = await userErrorOf(requirementFiles(ctx, true));
    assert.match(err.message, /base\.txt` leads outside the repository/);
    assert.doesNotMatch(JSON.stringify(err), /top-secret-host-value/);
    const deps = await pythonDependencies(ctx);
    assert.ok(![...deps].some((d) => d.includes("secret")));
  } finally {
    cleanup();
  }
});
