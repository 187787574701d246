import { test } from "node:test";
import assert from "node:assert/strict";
import { unknownAppError } from "../../../src/detect/unknown-app.ts";
import { repoWith } from "../../helpers/detect-context.ts";

async function errorOf(files: Record<string, string>, o: Parameters<typeof repoWith>[1] = {}) {
  const repo = repoWith(files, o);
  try {
    return await unknownAppError(repo.ctx, "the usual files");
  } finally {
    repo.cleanup();
  }
}

test("each other language is named by the file that shows it", async () => {
  for (const [file, name] of [["Cargo.toml", "Rust"], ["Gemfile", "Ruby"], ["pom.xml", "Java (Maven)"], ["mix.exs", "Elixir"], ["Shop.csproj", ".NET"]]) {
    const err = await errorOf({ [file!]: "" });
    assert.match(err.message, new RegExp(`^This looks like a ${name!.replace(/[().]/g, "\\$&")} app \\(${file!.replace(".", "\\.")}\\)`), file);
    assert.deepEqual(err.location, { file }, file);
  }
});

test("attack: directory names that could format a check run, and links out, are never told", async () => {
  const err = await errorOf({ "a`b/package.json": "{}", "x](http:/evil)/package.json": "{}", "ok/requirements.txt": "" }, { symlinks: { linked: "../outside" }, outside: { "package.json": "{}" } });
  assert.match(err.message, /found requirements\.txt in `ok\/`\.$/);
  assert.doesNotMatch(`${err.message} ${err.hint}`, /a`b|evil|linked/);
});

test("at most four subdirectories are told, by name", async () => {
  const files = Object.fromEntries(["f", "e", "d", "c", "b", "a"].map((d) => [`${d}/package.json`, "{}"]));
  const err = await errorOf(files);
  assert.match(err.message, /found package\.json in `a\/`, package\.json in `b\/`, package\.json in `c\/`, package\.json in `d\/`\.$/);
  assert.match(String(err.hint), /^To build it, set `root: a`, or `builds:`/);
});

test("inside an app root, the paths told are from the repository's top", async () => {
  const err = await errorOf({ "svc/site/index.html": "" }, { config: { root: "svc" } });
  assert.match(String(err.hint), /set `root: svc\/site` and `runtime: static`/);
});
